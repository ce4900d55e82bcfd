"""``config.toml`` -> frozen dataclasses, validated once at start-up.

Every problem is reported as ``file: dotted.key: what is wrong`` (indexes in arrays of
tables count from 0, as in ``feeds[3].url``), all problems at once, before anything is
written. Secrets are never values here: the file names the environment variables
(or systemd credentials) that hold them.

Adding a section: declare a frozen dataclass with defaults, add it as a field of
:class:`Config`, and document it in ``config.toml``. The loader reads type hints, so
``int``, ``float``, ``bool``, ``str``, ``Literal``, ``X | None``, ``tuple[X, ...]``
and nested dataclasses need no code. Extra checks go in ``metadata={"check": fn}``.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence
from urllib.parse import urlsplit

from monitor.errors import ConfigError

# --- checks -----------------------------------------------------------------------------

Check = Callable[[Any], "str | None"]


def http_url(value: str) -> str | None:
    """Only absolute http(s) URLs with a host are fetchable."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "not an http(s) URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    if any(ch.isspace() for ch in value):
        return "not an http(s) URL (contains whitespace)"
    return None


LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def credentials_url(value: str) -> str | None:
    """An endpoint that is sent credentials (a login, a client secret, a token): https,
    except to this machine (a test server, the demo)."""
    problem = http_url(value)
    if problem:
        return problem
    parts = urlsplit(value)
    if parts.scheme != "https" and (parts.hostname or "").lower() not in LOCAL_HOSTS:
        return ("must be an https:// URL: credentials are sent to it (plain http only to 127.0.0.1, ::1 or"
                " localhost)")
    return None


def positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def non_negative(value: float) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def non_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def env_name(value: str) -> str | None:
    """Secrets are referenced by environment-variable name, never stored."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return None
    return "must be the name of an environment variable (letters, digits, _)"


def hh_mm(value: str) -> str | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return "must be a time of day as HH:MM"
    return None


def timezone_name(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r}"
    return None


def _optional_positive(value: Any) -> str | None:
    return None if value is None else positive(value)


def check(fn: Check, **kwargs: Any) -> Any:
    """``field()`` with a validation function; the function returns a problem or None."""
    return field(metadata={"check": fn}, **kwargs)


# --- sections ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StorageConfig:
    """Where the database lives. Relative paths are relative to the working directory."""

    path: str = check(non_empty, default="db/monitor.db")


@dataclass(frozen=True)
class HttpConfig:
    """How every HTTP request behaves: identity, hard limits and concurrency."""

    user_agent: str = check(
        non_empty, default="monitor/0.1 (child online-safety news monitor; +https://example.org/contact)"
    )
    timeout: float = check(positive, default=30.0)  # total seconds per request, whatever the server does
    connect_timeout: float = check(positive, default=10.0)
    max_bytes: int = check(positive, default=10_000_000)  # counted after decompression
    concurrency: int = check(positive, default=10)  # requests in flight in all
    per_host: int = check(positive, default=2)  # requests in flight per host


@dataclass(frozen=True)
class ScheduleConfig:
    """How often each source is polled, and how failures back off."""

    interval_minutes: float = check(positive, default=30.0)  # default gap between polls of one source
    min_interval_minutes: float = check(positive, default=10.0)  # never poll a source more often than this
    max_interval_minutes: float = check(positive, default=24 * 60.0)  # cap for server-requested delays
    jitter: float = check(non_negative, default=0.1)  # +/- fraction added to due times
    backoff_cap_hours: float = check(positive, default=24.0)  # cap of exponential back-off after failures


def fraction(value: float) -> str | None:
    return None if 0 < value <= 1 else "must be greater than 0 and at most 1"


@dataclass(frozen=True)
class ClustersConfig:
    """How syndicated copies of one story are grouped."""

    window_days: float = check(positive, default=3.0)  # copies published further apart are separate stories
    threshold: float = check(fraction, default=0.5)  # estimated Jaccard similarity of headline + lead


@dataclass(frozen=True)
class TaggerConfig:
    """Which relevance model tags items, and from which score an item is relevant."""

    model: str = ""  # a directory written by `monitor train`; empty = the model shipped in the package
    threshold: float | None = check(lambda v: fraction(v) if v is not None else None, default=None)
    batch_size: int = check(positive, default=64)  # items per spaCy batch


@dataclass(frozen=True)
class FeedConfig:
    """One RSS/Atom feed."""

    name: str = check(non_empty)
    url: str = check(http_url)
    tags: tuple[str, ...] = ()
    # This feed's own gap between polls (e.g. 240 for a weekly blog), instead of
    # [schedule] interval_minutes; still within [schedule]'s min and max intervals.
    interval_minutes: float | None = check(_optional_positive, default=None)


@dataclass(frozen=True)
class QueryConfig:
    """One news search, turned into a feed URL by ``[queries_settings] url_template``."""

    name: str = check(non_empty)
    terms: str = check(non_empty)
    tags: tuple[str, ...] = ()
    interval_minutes: float | None = check(_optional_positive, default=None)  # as for [[feeds]]


def _template(value: str) -> str | None:
    if "{terms}" not in value:
        return "must contain {terms}"
    return http_url(value.replace("{terms}", "x"))


@dataclass(frozen=True)
class QueriesSettings:
    """How a ``[[queries]]`` entry becomes a URL; ``{terms}`` is replaced URL-encoded."""

    url_template: str = check(
        _template, default="https://news.google.com/rss/search?q={terms}&hl=en-GB&gl=GB&ceid=GB:en"
    )


TOPIC_IDS = ("grooming", "grooming_gangs", "sextortion", "csam", "child_online_safety", "legislation")


def topic_ids(value: tuple[str, ...]) -> str | None:
    unknown = [v for v in value if v not in TOPIC_IDS]
    if unknown:
        return f"unknown topic {unknown[0]!r} (topics: {', '.join(TOPIC_IDS)})"
    return None if value else "must name at least one topic"


MEDIA_TYPES = ("news", "reddit", "parliament", "social")


def media_types(value: tuple[str, ...]) -> str | None:
    unknown = [v for v in value if v not in MEDIA_TYPES]
    if unknown:
        return f"unknown source type {unknown[0]!r} (types: {', '.join(MEDIA_TYPES)})"
    return None if value else "must name at least one source type"


@dataclass(frozen=True)
class DigestConfig:
    """The daily digest. The digest for date D covers the 24 hours (23 or 25 when the clocks
    change) from ``time`` on D-1 to ``time`` on D, local time in ``timezone``."""

    time: str = check(hh_mm, default="07:30")  # when the day ends and the digest is due
    timezone: str = check(timezone_name, default="Europe/London")
    archive_dir: str = check(non_empty, default="db/archive")  # one folder per date
    catch_up_hours: float = check(positive, default=6.0)  # send a missed digest this late at most
    stories_per_topic: int = check(positive, default=8)  # more are counted, not listed
    platform_topics: tuple[str, ...] = check(topic_ids, default=("grooming",))  # "grooming items"
    platform_media: tuple[str, ...] = check(media_types, default=("news",))  # whose items count in the shares
    chart: Literal["topics", "platforms"] = "topics"
    silent_multiple: float = check(positive, default=3.0)  # silent: quiet this many usual gaps ...
    silent_min_hours: float = check(positive, default=24.0)  # ... and at least this long


def _email_address(value: str) -> str | None:
    from email.utils import parseaddr

    if not value:
        return None  # checked when sending
    name, address = parseaddr(value)
    if not address or "@" not in address or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return f"not an email address: {value!r}"
    return None


def _email_addresses(value: tuple[str, ...]) -> str | None:
    for address in value:
        problem = _email_address(address) if address else "must not be empty"
        if problem:
            return problem
    return None


_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
# Reddit's API rules: "<platform>:<app ID>:<version string> (by /u/<reddit username>)".
_REDDIT_USER_AGENT = re.compile(r"[^\s:]+:[^\s:]+:[^\s:]+ \(by /?u/[A-Za-z0-9_-]{3,20}\)")


def subreddit_name(value: str) -> str | None:
    """A subreddit's name as Reddit spells it, without ``r/`` (``Parenting``, ``all``)."""
    if value.lower().startswith(("r/", "/r/")):
        return f"write the name without r/ (e.g. {value.split('/')[-1]!r})"
    if not _SUBREDDIT.fullmatch(value):
        return "not a subreddit name (2-21 letters, digits or _)"
    return None


def reddit_user_agent(value: str) -> str | None:
    """Reddit blocks generic user agents; it asks for a descriptive, versioned one."""
    if value and not _REDDIT_USER_AGENT.fullmatch(value.strip()):
        return ("must have Reddit's form '<platform>:<app id>:<version> (by /u/<name>)',"
                " e.g. 'python:org.example.monitor:0.1 (by /u/your_account)'")
    return None


@dataclass(frozen=True)
class EmailConfig:
    """SMTP delivery of the digest. The password is never here: ``password_env`` names the
    environment variable or systemd credential that holds it."""

    host: str = check(non_empty, default="localhost")
    port: int = check(positive, default=587)
    security: Literal["starttls", "tls", "none"] = "starttls"  # "none" only to 127.0.0.1
    username: str = ""  # empty: no login
    password_env: str = check(env_name, default="MONITOR_SMTP_PASSWORD")
    sender: str = check(_email_address, default="")
    recipients: tuple[str, ...] = check(_email_addresses, default=())
    timeout: float = check(positive, default=60.0)  # hard limit in seconds for one whole send


@dataclass(frozen=True)
class RedditSubredditConfig:
    """One subreddit whose newest posts are collected."""

    name: str = check(subreddit_name)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedditSearchConfig:
    """One Reddit keyword search, newest posts first, in one subreddit or ``all``."""

    query: str = check(non_empty)
    subreddit: str = check(subreddit_name, default="all")
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedditConfig:
    """Public Reddit posts through Reddit's API (read-only app authentication).

    The credentials are read from the environment variables (or systemd credentials)
    named here, never from this file; ``oauth_url``/``reddit_url`` point at Reddit
    unless a test or the demo points them at a local server.
    """

    user_agent: str = check(reddit_user_agent, default="")
    client_id_env: str = check(env_name, default="REDDIT_CLIENT_ID")
    client_secret_env: str = check(env_name, default="REDDIT_CLIENT_SECRET")
    oauth_url: str = check(credentials_url, default="https://oauth.reddit.com")  # the API: sent the token
    reddit_url: str = check(credentials_url, default="https://www.reddit.com")  # logins: sent the client secret
    include_nsfw: bool = False  # posts marked over 18 are skipped unless true
    hash_authors: bool = True  # store a keyed hash of the username, never the name
    recheck_days: float = check(positive, default=7.0)  # re-check posts this young for upstream deletion
    comments: bool = False  # also collect top-level comments of posts the tagger found relevant
    comments_per_post: int = check(positive, default=20)  # the top this many top-level comments of each
    subreddits: tuple[RedditSubredditConfig, ...] = ()
    searches: tuple[RedditSearchConfig, ...] = ()

    @property
    def enabled(self) -> bool:
        """True when any Reddit source is configured."""
        return bool(self.subreddits or self.searches)


# --- Parliament and social networks ------------------------------------------------------


@dataclass(frozen=True)
class HansardSearchConfig:
    """One search of what was said in the Commons and the Lords (Hansard's own search
    syntax: words, or a "quoted phrase")."""

    query: str = check(non_empty)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class HansardConfig:
    """UK Parliament's Hansard API (public, no key): spoken contributions matching
    each search, polled from the last sitting date seen."""

    api_url: str = check(http_url, default="https://hansard-api.parliament.uk")
    web_url: str = check(http_url, default="https://hansard.parliament.uk")  # where item links point
    lookback_days: int = check(positive, default=14)  # the first poll reads this many days back
    overlap_days: int = check(non_negative, default=3)  # later polls re-read this far before the last sitting seen
    searches: tuple[HansardSearchConfig, ...] = ()


def instance_base(value: str) -> str:
    """A Mastodon instance as a base URL: ``mastodon.social`` -> ``https://mastodon.social``."""
    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    return value.rstrip("/")


def mastodon_instance(value: str) -> str | None:
    problem = http_url(instance_base(value)) if value.strip() else "must not be empty"
    if problem:
        return "not an instance (a host name such as mastodon.social, or a base URL such as https://mastodon.social)"
    parts = urlsplit(instance_base(value))
    if parts.query or parts.fragment:
        return "an instance is a host name or base URL, without ? or #"
    return None


_HASHTAG = re.compile(r"\w[\w\u00b7]*")


def hashtag(value: str) -> str | None:
    if value.startswith("#"):
        return f"write the tag without # (e.g. {value.lstrip('#')!r})"
    if not _HASHTAG.fullmatch(value):
        return "not a hashtag (letters, digits and _ only)"
    return None


@dataclass(frozen=True)
class MastodonHashtagConfig:
    """One hashtag's public timeline on one instance."""

    instance: str = check(mastodon_instance)
    tag: str = check(hashtag)
    tags: tuple[str, ...] = ()  # labels of your own, as for feeds


@dataclass(frozen=True)
class MastodonConfig:
    """Public hashtag timelines on Mastodon instances (no login)."""

    include_sensitive: bool = False  # posts marked sensitive (behind a content warning) are skipped unless true
    hash_authors: bool = True  # store a keyed hash of the account name, never the name
    respect_opt_outs: bool = True  # skip accounts that opted out of indexing (noindex, #nobot, #noindex)
    hashtags: tuple[MastodonHashtagConfig, ...] = ()


@dataclass(frozen=True)
class BlueskySearchConfig:
    """One Bluesky post search, newest first."""

    query: str = check(non_empty)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlueskyConfig:
    """Bluesky post search (``app.bsky.feed.searchPosts``), which needs an account:
    its handle and an app password are read from the secrets named here."""

    api_url: str = check(credentials_url, default="https://bsky.social")  # the account's PDS / entryway (login)
    web_url: str = check(http_url, default="https://bsky.app")  # where item links point
    handle_env: str = check(env_name, default="BLUESKY_HANDLE")
    app_password_env: str = check(env_name, default="BLUESKY_APP_PASSWORD")
    include_sensitive: bool = False  # posts labelled porn, sexual, nudity or graphic-media are skipped unless true
    hash_authors: bool = True  # store a keyed hash of the handle, never the handle
    respect_opt_outs: bool = True  # skip accounts that asked not to be shown to logged-out viewers
    searches: tuple[BlueskySearchConfig, ...] = ()

    @property
    def enabled(self) -> bool:
        """True when any Bluesky search is configured (only then are its secrets needed)."""
        return bool(self.searches)


# --- alerts -----------------------------------------------------------------------------


def quiet_span(value: str) -> str | None:
    """``"22:00-07:00"`` (local time in ``[digest] timezone``; may span midnight) or empty."""
    if not value:
        return None
    start, sep, end = value.partition("-")
    if not sep or hh_mm(start.strip()) or hh_mm(end.strip()):
        return 'must be two times of day as "HH:MM-HH:MM" (e.g. "22:00-07:00"), or empty for none'
    if start.strip().zfill(5) == end.strip().zfill(5):
        return "the start and the end must differ"
    return None


def _known(kind: str, plural: str) -> Check:
    """Values the tagger can produce for ``kind`` (from its pattern files), any case: a
    rule naming anything else could never match."""

    def checker(values: tuple[str, ...]) -> str | None:
        from monitor.tagging.resources import known_ids

        known = {value.casefold(): value for value in known_ids(kind)}
        for value in values:
            if value.casefold() not in known:
                hint = (" (the tagger knows only the organisations in monitor/tagging/patterns/organisations.jsonl;"
                        " use query for other names)" if kind == "organisation"
                        else f" (known {plural}: {', '.join(sorted(known.values()))})")
                return f"unknown {kind} {value!r}{hint}"
        return None

    return checker


def _rule_topics(values: tuple[str, ...]) -> str | None:
    unknown = [v for v in values if v not in TOPIC_IDS]
    return f"unknown topic {unknown[0]!r} (topics: {', '.join(TOPIC_IDS)})" if unknown else None


def fts_query(value: str) -> str | None:
    """A full-text query must parse as SQLite FTS5 syntax (checked on an empty in-memory index)."""
    if not value.strip():
        return None if not value else "must not be blank (leave it out for no full-text condition)"
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        try:
            conn.execute("CREATE VIRTUAL TABLE probe USING fts5(title, text)")
        except sqlite3.OperationalError:
            return None  # this SQLite has no FTS5; the search index will say so when used
        try:
            conn.execute("SELECT rowid FROM probe WHERE probe MATCH ?", [value]).fetchall()
        except sqlite3.Error as error:
            return (f"not a valid full-text query ({str(error).removeprefix('fts5: ')}); put words with"
                    ' punctuation in double quotes, e.g. \'"37%"\', and see'
                    " https://www.sqlite.org/fts5.html#full_text_query_syntax")
    finally:
        conn.close()
    return None


def _rule_name(value: str) -> str | None:
    if not value.strip():
        return "must not be empty"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value) or len(value) > 80:
        return "must be one line of at most 80 characters"
    return None


Channel = Literal["email", "webhook"]


@dataclass(frozen=True)
class AlertRuleConfig:
    """A priority rule: an item matching it is alerted in the collection cycle that
    stored it. Every list given must match the item's tags (any value of the list);
    ``query`` is full-text (FTS5 syntax) over title and text."""

    name: str = check(_rule_name)
    topics: tuple[str, ...] = check(_rule_topics, default=())
    platforms: tuple[str, ...] = check(_known("platform", "platforms"), default=())
    legislation: tuple[str, ...] = check(_known("legislation", "laws"), default=())
    organisations: tuple[str, ...] = check(_known("organisation", "organisations"), default=())
    query: str = check(fts_query, default="")
    relevant_only: bool = True  # only items the tagger found relevant
    channel: Channel = "email"

    @property
    def conditions(self) -> dict[str, tuple[str, ...]]:
        """The tag lists the rule sets, by tag kind as stored in ``item_tags``."""
        lists = {"topic": self.topics, "platform": self.platforms, "legislation": self.legislation,
                 "organisation": self.organisations}
        return {kind: values for kind, values in lists.items() if values}


@dataclass(frozen=True)
class AlertsConfig:
    """Alerts between digests: priority rules, spikes against a stated baseline, sources
    gone quiet. Present in the file = on; email goes through ``[email]``."""

    spike_sigma: float = check(positive, default=3.0)  # alert above mean + this many standard deviations
    spike_min_count: int = check(positive, default=5)  # ... and at least this many items in the window
    spike_window_hours: float = check(positive, default=6.0)
    baseline_days: float = check(positive, default=28.0)  # the previous windows of this period are the baseline
    cooldown_hours: float = check(non_negative, default=12.0)  # per series, after a spike alert
    quiet_hours: str = check(quiet_span, default="")  # "22:00-07:00": held, sent when it ends
    webhook_url_env: str = check(env_name, default="MONITOR_ALERT_WEBHOOK_URL")
    channel: Channel = "email"  # where spike and source-health alerts go
    spikes: bool = True
    source_health: bool = True
    failing_hours: float = check(positive, default=6.0)  # a source failing this long raises an alert
    # `monitor run` delivers due alerts this often (minutes) without waiting for a cycle that
    # polls a source: those held for quiet hours, and deliveries that failed (retried).
    check_minutes: float = check(positive, default=5.0)
    rules: tuple[AlertRuleConfig, ...] = ()


@dataclass(frozen=True)
class ServiceConfig:
    """How ``monitor run`` schedules its jobs, keeps itself healthy and looks after the database."""

    # How often the collection job looks for sources whose due time has come (seconds).
    tick_seconds: float = check(positive, default=60.0)
    # Hard limit for one collection cycle's network work: sources still fetching then are
    # abandoned, recorded as failed and backed off, so one hung server never delays the rest.
    cycle_deadline_seconds: float = check(positive, default=180.0)
    # Minutes before the service tries again to send a digest that could not be sent
    # (SMTP down ...), as long as it is still due (see [digest] catch_up_hours).
    digest_retry_minutes: float = check(positive, default=15.0)
    # A job running longer than this means the service is stuck: the systemd watchdog is
    # no longer fed, and systemd restarts the service.
    stall_minutes: float = check(positive, default=30.0)
    # Hours between two re-checks of recent Reddit posts for deletions upstream (which
    # are then purged here, as Reddit's terms require).
    recheck_hours: float = check(positive, default=6.0)
    # Hard limit for one re-check's waiting for Reddit (all its requests): praw's timeout
    # is per read, so a server trickling its answer would otherwise hold up every later job.
    recheck_deadline_seconds: float = check(positive, default=300.0)
    # Daily maintenance (integrity check, optimise, backup, retention) at this local time.
    maintenance_time: str = check(hh_mm, default="03:30")
    timezone: str = check(timezone_name, default="Europe/London")
    # Where backups go: "" is a "backups" folder next to the database. Relative paths are
    # relative to the working directory, like [storage] path.
    backup_dir: str = ""
    # Backups kept (the newest ones); 0 turns daily backups off.
    backup_keep: int = check(non_negative, default=7)
    # Reddit posts and comments older than this many days are deleted (0 keeps them).
    reddit_retention_days: int = check(non_negative, default=365)
    # Rows of the runs table older than this many days are deleted (0 keeps them).
    runs_retention_days: int = check(non_negative, default=180)
    # `monitor doctor` warns when less than this much disk is free where the database is.
    min_free_disk_mb: int = check(non_negative, default=1000)


@dataclass(frozen=True)
class Config:
    """The whole validated configuration. ``path`` is the file it came from."""

    storage: StorageConfig = field(default_factory=StorageConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clusters: ClustersConfig = field(default_factory=ClustersConfig)
    tagger: TaggerConfig = field(default_factory=TaggerConfig)
    queries_settings: QueriesSettings = field(default_factory=QueriesSettings)
    digest: DigestConfig = field(default_factory=DigestConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    feeds: tuple[FeedConfig, ...] = ()
    queries: tuple[QueryConfig, ...] = ()
    reddit: RedditConfig = field(default_factory=RedditConfig)
    hansard: HansardConfig = field(default_factory=HansardConfig)
    mastodon: MastodonConfig = field(default_factory=MastodonConfig)
    bluesky: BlueskyConfig = field(default_factory=BlueskyConfig)
    alerts: AlertsConfig | None = None  # None: no [alerts] table, no alerts
    path: str = field(default="<defaults>", metadata={"internal": True})


# --- secrets ----------------------------------------------------------------------------


def read_secret(name: str) -> str | None:
    """The value of secret ``name``: a systemd credential file first, then the environment.

    With ``LoadCredential=NAME:...`` systemd puts the secret in ``$CREDENTIALS_DIRECTORY/NAME``,
    which keeps it out of the process environment; outside systemd, ``NAME`` is read from
    the environment. Returns None when neither holds a non-empty value.
    """
    import os

    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if directory:
        try:
            value = (Path(directory) / name).read_text(encoding="utf-8").strip()
        except OSError:
            value = ""
        if value:
            return value
    value = os.environ.get(name, "").strip()
    return value or None


def read_secrets(names: Sequence[str], secret: Callable[[str], str | None] = read_secret
                 ) -> tuple[list[str], str | None]:
    """The values of the secrets ``names`` ("" for a missing one), and None, or a phrase
    naming the missing ones (``"A and B are not set"``) for a one-line warning."""
    values = [secret(name) or "" for name in names]
    missing = [name for name, value in zip(names, values) if not value]
    if not missing:
        return values, None
    return values, f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"


# --- loading ----------------------------------------------------------------------------


def load_config(path: str | Path) -> Config:
    """Read and validate ``path``. Raises :class:`ConfigError` listing every problem."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{name}: file not found (use --config PATH or set MONITOR_CONFIG)"]) from None
    except OSError as error:
        raise ConfigError([f"{name}: cannot read: {error.strerror or error}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{name}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{name}: invalid TOML: {error}"]) from None
    return config_from_dict(data, name)


def config_from_dict(data: dict[str, Any], name: str = "<config>") -> Config:
    """Validate an already-parsed mapping (used by the demo and tests)."""
    problems: list[str] = []
    config = _build(Config, data, "", problems)
    if not problems:
        _check_unique(config, problems)
        _check_email(config, problems)
        _check_alerts(config, problems)
    if problems:
        raise ConfigError([f"{name}: {problem}" for problem in problems])
    return dataclasses.replace(config, path=name)


# Why two entries of a kind can be one source, for the duplicate message.
_SAME_SOURCE_HINT = {
    "feed": "names must differ in letters or digits",
    "query": "names must differ in letters or digits",
    "reddit_subreddit": "subreddit names are not case-sensitive",
    "reddit_search": "query and subreddit must differ in letters or digits",
    "hansard": "queries must differ in letters or digits",
    "mastodon": "the same hashtag on the same instance: tags must differ in letters or digits",
    "bluesky": "queries must differ in letters or digits",
}


def _check_unique(config: Config, problems: list[str]) -> None:
    """Every source needs its own id (``kind:slug``): it keys the source's history. Two
    entries that would share one are reported at the second, naming the first."""
    from monitor.sources import configured_sources

    reddit = config.reddit
    if reddit.enabled and not reddit.user_agent.strip():
        problems.append("reddit.user_agent: missing required value (Reddit requires a descriptive user agent,"
                        " e.g. 'python:org.example.monitor:0.1 (by /u/your_account)')")
    first: dict[str, str] = {}
    for key, source in configured_sources(config):
        if source.id in first:
            problems.append(f"{key}: the same source as {first[source.id]} (both would be {source.id!r}:"
                            f" {_SAME_SOURCE_HINT.get(source.kind, 'they must differ in letters or digits')})")
        first.setdefault(source.id, key)


LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _check_email(config: Config, problems: list[str]) -> None:
    """Unencrypted SMTP only to a relay on this machine: anything else would send the
    password and the digest in clear across a network."""
    if config.email.security == "none" and config.email.host not in LOOPBACK:
        problems.append(
            f"email.security: \"none\" (no encryption) is only allowed with host = \"127.0.0.1\","
            f" not {config.email.host!r}; use \"starttls\" or \"tls\""
        )


def _check_alerts(config: Config, problems: list[str]) -> None:
    """Rules need a condition (else every relevant item would alert) and distinct names;
    the baseline must hold more than one window."""
    alerts = config.alerts
    if alerts is None:
        return
    names: dict[str, int] = {}
    for index, rule in enumerate(alerts.rules):
        key = rule.name.strip().casefold()
        if key in names:
            problems.append(f"alerts.rules[{index}].name: {rule.name!r} is already alerts.rules[{names[key]}].name")
        names.setdefault(key, index)
        if not rule.conditions and not rule.query.strip():
            problems.append(f"alerts.rules[{index}]: give at least one of topics, platforms, legislation,"
                            " organisations or query (a rule without one would alert on every item)")
    if alerts.baseline_days * 24 < 2 * alerts.spike_window_hours:
        problems.append("alerts.baseline_days: must cover at least two spike windows"
                        f" ({2 * alerts.spike_window_hours:g} hours)")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        (inner, _ellipsis) = typing.get_args(tp)
        return f"a list of {_type_name(inner)}"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, str(tp))


def _build(cls: Any, data: Any, path: str, problems: list[str]) -> Any:
    """Build dataclass ``cls`` from ``data``, appending problems instead of raising."""
    if not isinstance(data, dict):
        problems.append(f"{path or '<top level>'}: expected a table, got {_describe(data)}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            problems.append(f"{_join(path, key)}: unknown key (expected one of: {known})")
    values: dict[str, Any] = {}
    broken = False
    for fname, fdef in fields.items():
        where = _join(path, fname)
        if fname not in data:
            if fdef.default is dataclasses.MISSING and fdef.default_factory is dataclasses.MISSING:
                problems.append(f"{where}: missing required value ({_type_name(hints[fname])})")
                broken = True
            continue
        before = len(problems)
        value = _convert(hints[fname], data[fname], where, problems)
        if len(problems) > before:
            broken = True
            continue
        checker = fdef.metadata.get("check")
        if checker is not None:
            problem = checker(value)
            if problem:
                problems.append(f"{where}: {problem}")
                broken = True
                continue
        values[fname] = value
    if broken:
        return None
    return cls(**values)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"[:80]


def _convert(tp: Any, value: Any, where: str, problems: list[str]) -> Any:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        if len(options) == 1:  # an optional value: its own problems, with their own keys
            return _convert(options[0], value, where, problems)
        for option in options:
            trial: list[str] = []
            converted = _convert(option, value, where, trial)
            if not trial:
                return converted
        problems.append(f"{where}: expected {_type_name(tp)}, got {_describe(value)}")
        return None
    if origin is tuple:
        (inner, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            problems.append(f"{where}: expected {_type_name(tp)}, got {_describe(value)}")
            return None
        return tuple(_convert(inner, item, f"{where}[{i}]", problems) for i, item in enumerate(value))
    if origin is Literal:
        if value not in typing.get_args(tp):
            problems.append(f"{where}: expected {_type_name(tp)}, got {_describe(value)}")
            return None
        return value
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where, problems)
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false, got {_describe(value)}")
            return None
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: expected an integer, got {_describe(value)}")
            return None
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{where}: expected a number, got {_describe(value)}")
            return None
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            problems.append(f"{where}: expected a string, got {_describe(value)}")
            return None
        return value
    raise TypeError(f"config type {tp!r} at {where} is not supported by the loader")  # a bug, not user input
