"""The data that flows through the pipeline: sources -> items -> tags -> store -> digest.

All frozen dataclasses with plain values, so every stage can be tested without I/O.
Times are timezone-aware UTC ``datetime`` objects in memory and ISO-8601 strings
(``2026-11-28T06:13:48Z``) in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

SourceKind = Literal["feed", "query", "reddit_subreddit", "reddit_search", "hansard", "mastodon", "bluesky"]


def utcnow() -> datetime:
    """Now, in UTC, to the second. The one clock the package uses by default."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def to_iso(moment: datetime | None) -> str | None:
    """A UTC ISO-8601 string with a trailing ``Z``, as stored in every table."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(value: str | None) -> datetime | None:
    """Inverse of :func:`to_iso`; accepts any ISO-8601 string with or without a zone.

    Raises ValueError for anything that is not a time in range, including a time that
    overflows on conversion to UTC (``0001-01-01T00:00:00+14:00``, which any Bluesky
    client may write): callers reading untrusted input catch one exception.
    """
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"time out of range: {value[:40]!r}") from None


def from_epoch(seconds: float) -> datetime:
    """A UTC time from Unix seconds (Reddit's ``created_utc``). Raises ValueError when
    out of range, as :func:`from_iso` does."""
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"time out of range: {seconds!r} seconds since 1970") from None


@dataclass(frozen=True)
class Source:
    """One configured thing to poll: a feed, a news query, a subreddit, a search...

    ``id`` is stable across restarts and config edits of everything but the kind and
    name (``feed:bbc-news-uk``), so history follows a source when its URL changes.
    """

    id: str
    kind: str
    name: str
    url: str | None = None
    tags: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def media(self) -> str:
        """Source type as the digest counts it: ``news``, ``reddit``, ``parliament``, ``social``."""
        return media_of(self.kind)

    @property
    def interval_minutes(self) -> float | None:
        """This source's own gap between polls (``[[feeds]] interval_minutes``), if set."""
        value = self.options.get("interval_minutes")
        return None if value is None else float(value)


def media_of(kind: str) -> str:
    """The source type (``Item.media``) of a source kind."""
    if kind in ("feed", "query"):
        return "news"
    if kind.startswith("reddit"):
        return "reddit"
    if kind == "hansard":
        return "parliament"
    return "social"


@dataclass(frozen=True)
class Item:
    """One collected entry, normalised, before tagging.

    ``id`` is the natural key (see ``monitor.sources.normalise.item_key``); ``url`` is
    normalised; ``text`` is plain text for tagging; ``summary_html`` is already
    sanitised with an allow-list and safe to place in HTML. ``popularity`` and
    ``comments`` are engagement counts where the source reports them (a Reddit
    post's score and comment count), None for news.
    """

    id: str
    source_id: str
    url: str | None
    title: str
    text: str
    summary_html: str = ""
    author: str | None = None
    published_at: datetime | None = None
    guid: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    popularity: int | None = None
    comments: int | None = None


@dataclass(frozen=True)
class Statistic:
    """A quoted figure: ``value`` as written ("37%", "1,220", "€20 million"), its number,
    its unit ("%", "offences", "EUR"), the sentence it was quoted in, and ``of``: what a
    percentage or sum is of or for ("cases" in "37% of cases", "fines" in "€20 million
    fines"), so "37%" alone is not mistaken for the figure the campaign quotes; None when
    the text does not say (a count's unit already names what it counts)."""

    value: str
    number: float | None
    unit: str
    sentence: str
    of: str | None = None


@dataclass(frozen=True)
class Tags:
    """What the tagger decided about one item, and why.

    ``version`` identifies the tagger (patterns + model) that produced it, so stale tags
    can be found and re-tagged.
    """

    relevant: bool
    score: float
    topics: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    legislation: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    statistics: tuple[Statistic, ...] = ()
    why: tuple[str, ...] = ()
    version: str = ""


@dataclass(frozen=True)
class FetchState:
    """What we remember about polling one source between runs (table ``fetch_state``).

    ``etag``/``last_modified`` are kept exactly as the server sent them. ``cursor`` is
    collector-specific (the newest Reddit fullname seen, a Mastodon id ...).
    ``gone_at`` is set when the server answered 410 Gone: the source is no longer polled.
    """

    source_id: str
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    cursor: str | None = None
    next_due_at: datetime | None = None
    failures: int = 0
    last_status: int | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_at: datetime | None = None
    gone_at: datetime | None = None
