"""Mastodon: public hashtag timelines on configured instances -> :class:`Item` objects.

``GET /api/v1/timelines/tag/<tag>`` needs no login on most instances and answers a
JSON array of statuses, newest first, with a ``Link`` header for the pages around it.
How it is used, and why:

- **Incremental.** A source (one instance and tag) keeps the newest status id it has
  seen. Later polls ask for ``min_id=<that id>`` (the statuses just newer than it) and
  follow the ``Link`` header's ``prev`` ``min_id`` forward until a short page, at most
  :data:`MAX_PAGES`. The first poll reads the newest :data:`FIRST_PAGES` pages,
  backwards with the ``next`` ``max_id``. Only the parameters of a ``Link`` header are
  used: requests always go to the configured instance.
- **One status, one item, across instances.** Ids are local to each instance (the same
  post has a different id on every server that knows it), so the item's id comes from
  the status ``uri``, which is the same everywhere: a hash of it (``social:`` + 32 hex
  characters), because an ActivityPub uri names the account
  (``https://instance/users/NAME/statuses/ID``). A post bridged from Bluesky
  (``https://bsky.brid.gy/convert/ap/at://...``) gets the id of the Bluesky post (its
  ``at://`` uri, which names the account only by its DID), so it is one item with what
  the Bluesky collector finds too. ``url`` is the status's own page (which, like any
  link to a post, names its account); the uri itself is not stored.
- **What is kept.** Text with the HTML stripped (the HTML itself sanitised in
  ``summary_html``), the content warning, language, favourites as ``popularity`` and
  replies as ``comments``, the linked page of a preview card. Account names are stored
  as keyed hashes of ``user@instance`` (``hash_authors``), the same hash whichever
  instance reported the post. Posts marked sensitive are skipped unless
  ``include_sensitive``; so are accounts that opted out of indexing
  (``noindex``, or ``#nobot`` / ``#noindex`` in their profile) while
  ``respect_opt_outs`` is on.
- **Politeness.** A 429 (its ``Retry-After``, else the ``X-RateLimit-Reset`` time, is
  honoured) fails the source, which backs off, and stops this cycle's other sources on
  the same instance; paging stops early when ``X-RateLimit-Remaining`` reaches 0.
  A failure part-way keeps what was read; the cursor moves only over what was read
  without a gap.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from monitor.config import MastodonConfig
from monitor.errors import CollectorError, ParseError
from monitor.sources.api import HostGuard, as_dict, as_list, get_json, items_from, link_params, rate_limit_exhausted
from monitor.sources.base import Fetched, Parsed
from monitor.sources.http import HttpClient
from monitor.sources.normalise import (
    author_value,
    clean_text,
    excerpt,
    html_to_text,
    json_count,
    normalise_url,
    safe_html,
)
from monitor.types import FetchState, Item, Source, from_iso

log = logging.getLogger(__name__)

PAGE = 40  # the most a hashtag timeline returns per request
FIRST_PAGES = 2
MAX_PAGES = 10
MAX_ID_LENGTH = 400  # longer at:// uris are hashed into the id too
_BRIDGED_BLUESKY = re.compile(r"https://bsky\.brid\.gy/convert/ap/(at://did:[a-z0-9]+:[A-Za-z0-9._:%-]+/[^\s?#]+)")
_OPT_OUT = re.compile(r"#(?:nobot|noindex)\b", re.IGNORECASE)
PUBLIC = {"public", "unlisted"}


# --- statuses -> items (pure) --------------------------------------------------------------


def canonical_uri(uri: str) -> str:
    """The id of a post across networks: its ActivityPub ``uri``, or for a post bridged
    from Bluesky by Bridgy Fed, the Bluesky ``at://`` uri it came from."""
    match = _BRIDGED_BLUESKY.fullmatch(uri.strip())
    return match.group(1) if match else uri.strip()


def post_id(uri: str) -> str:
    """An item id from a post's canonical uri: a Bluesky ``at://`` uri as it is (the
    Bluesky collector's id for the same post), any other hashed, as it names the
    account; so is an absurdly long one."""
    import hashlib

    if uri.startswith("at://") and len(uri) <= MAX_ID_LENGTH:
        return uri
    return "social:" + hashlib.sha256(uri.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def full_acct(account: dict[str, Any], instance_host: str) -> str | None:
    """``user@instance`` whichever instance reported it (an account local to the
    reporting instance has no domain in its ``acct``)."""
    acct = account.get("acct")
    if not isinstance(acct, str) or not acct.strip():
        return None
    acct = acct.strip().lstrip("@")
    if "@" in acct:
        return acct
    # A local account: its domain is its home page's host (what other instances call it).
    home = account.get("url")
    host = urlsplit(home).netloc.lower() if isinstance(home, str) and home.startswith(("https://", "http://")) else ""
    return f"{acct}@{host or instance_host}"


def opted_out(account: dict[str, Any]) -> bool:
    """The account asked not to be indexed: ``noindex`` set, or ``#nobot`` / ``#noindex``
    in its profile."""
    if account.get("noindex") is True:
        return True
    note = account.get("note")
    return isinstance(note, str) and bool(_OPT_OUT.search(html_to_text(note)))


@dataclass(frozen=True)
class StatusOptions:
    """What :func:`status_to_item` needs besides the status."""

    instance_host: str
    include_sensitive: bool = False
    hash_authors: bool = True
    respect_opt_outs: bool = True
    hash_key: bytes = b""


def status_to_item(status: dict[str, Any], source: Source, options: StatusOptions) -> Item | None:
    """One status as an Item, or None when it has no uri or no text."""
    uri = status.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        return None
    content = status.get("content") if isinstance(status.get("content"), str) else ""
    text = html_to_text(content)
    if not text:
        return None
    account = as_dict(status.get("account"))
    author = author_value(full_acct(account, options.instance_host), options)
    try:
        published = from_iso(status.get("created_at")) if isinstance(status.get("created_at"), str) else None
    except ValueError:
        published = None
    url = normalise_url(status.get("url") if isinstance(status.get("url"), str) else None) or normalise_url(uri)
    card = as_dict(status.get("card"))
    media = as_list(status.get("media_attachments"))
    extra = {
        "network": "mastodon",
        "language": clean_text(status.get("language")) if isinstance(status.get("language"), str) else None,
        "content_warning": clean_text(status.get("spoiler_text")) if status.get("spoiler_text") else None,
        "sensitive": bool(status.get("sensitive")),
        "link": normalise_url(card.get("url")) if isinstance(card.get("url"), str) else None,
        "media": len(media) or None,
        "reblogs": json_count(status.get("reblogs_count")),
        "reply": bool(status.get("in_reply_to_id")),
        "bot": bool(account.get("bot")),
        "edited_at": status.get("edited_at") if isinstance(status.get("edited_at"), str) else None,
    }
    return Item(
        id=post_id(canonical_uri(uri)),
        source_id=source.id,
        url=url,
        title=excerpt(text),
        text=text,
        summary_html=safe_html(content),
        author=author,
        published_at=published,
        extra={key: value for key, value in extra.items() if value not in (None, False)},
        popularity=json_count(status.get("favourites_count")),
        comments=json_count(status.get("replies_count")),
    )


def parse_statuses(statuses: list[Any], source: Source, options: StatusOptions) -> Parsed:
    """Items from statuses (a boost as the post it boosts): sensitive and opted-out ones
    skipped (counted in the log), malformed ones skipped with a warning, each post once."""

    def skip(status: dict[str, Any]) -> str | None:
        if status.get("visibility") not in PUBLIC and status.get("visibility") is not None:
            return "that are not public"
        if options.respect_opt_outs and opted_out(as_dict(status.get("account"))):
            return "of accounts that opted out of indexing"
        if status.get("sensitive") and not options.include_sensitive:
            return "marked sensitive (mastodon.include_sensitive is off)"
        return None

    posts = [status["reblog"] if isinstance(status, dict) and isinstance(status.get("reblog"), dict) else status
             for status in statuses]
    return items_from(posts, source, to_item=lambda status: status_to_item(status, source, options), skip=skip,
                      noun="post", unreadable="no uri or no text",
                      describe=lambda status: f"id {clean_text(str(status.get('id')))[:40]!r}")


# --- the collector -------------------------------------------------------------------------


@dataclass
class Timeline:
    """What one poll read: statuses, requests made, and notes for the log."""

    statuses: list[Any] = field(default_factory=list)
    requests: int = 0
    notes: list[str] = field(default_factory=list)


class MastodonCollector:
    """Collects ``mastodon`` sources (see the module docs)."""

    kinds: tuple[str, ...] = ("mastodon",)

    def __init__(self, settings: MastodonConfig, *, hash_key: bytes = b""):
        if settings.hash_authors and not hash_key:
            raise ValueError("hash_authors needs a hash key")
        self.settings = settings
        self.hash_key = hash_key
        self.guard = HostGuard("Mastodon")

    def options(self, source: Source) -> StatusOptions:
        host = urlsplit(source.options["instance"]).netloc.lower()
        return StatusOptions(host, self.settings.include_sensitive, self.settings.hash_authors,
                             self.settings.respect_opt_outs, self.hash_key)

    async def fetch(self, source: Source, state: FetchState, client: HttpClient) -> Fetched:
        base, tag = source.options["instance"], source.options["tag"]
        host = urlsplit(base).netloc.lower()
        self.guard.check(host)
        url = f"{base}/api/v1/timelines/tag/{quote(tag, safe='')}"
        read = Timeline()
        cursor = state.cursor.strip() if state.cursor and state.cursor.strip() else None
        newest: str | None = cursor
        failure: CollectorError | None = None
        try:
            if cursor is None:
                newest = await self._first_poll(client, url, source, read)
            else:
                newest = await self._poll_newer(client, url, source, cursor, read)
        except _Stopped as stopped:
            newest = stopped.cursor
            failure = stopped.error
            self.guard.note(host, stopped.error)
            if not read.statuses:
                raise stopped.error from None
        changes = {"cursor": newest} if newest and newest != cursor else {}
        log.debug("%s: %d status(es) in %d request(s)", source.name, len(read.statuses), read.requests)
        return Fetched(status=200, url=source.url or "", payload=read, state_changes=changes, failure=failure)

    async def _page(self, client: HttpClient, url: str, source: Source, params: dict[str, Any],
                    read: Timeline) -> tuple[list[Any], dict[str, dict[str, str]], bool]:
        what = f"#{source.options['tag']} on {urlsplit(url).netloc}"
        data, response = await get_json(client, url, service="Mastodon", what=what, params=params)
        read.requests += 1
        if not isinstance(data, list):
            message = data.get("error") if isinstance(data, dict) else None
            raise ParseError(f"Mastodon answered {what} with something that is not a list of statuses"
                             + (f" ({clean_text(str(message))[:160]})" if message else ""))
        read.statuses += data
        return data, link_params(response.headers.get("link")), rate_limit_exhausted(response.headers)

    async def _first_poll(self, client: HttpClient, url: str, source: Source, read: Timeline) -> str | None:
        """The newest FIRST_PAGES pages, backwards with max_id. Returns the new cursor."""
        newest: str | None = None
        params: dict[str, Any] = {"limit": PAGE}
        for page in range(FIRST_PAGES):
            try:
                statuses, links, exhausted = await self._page(client, url, source, params, read)
            except CollectorError as error:
                raise _Stopped(error, newest) from None
            if page == 0:
                newest = links.get("prev", {}).get("min_id") or newest_id(statuses)
            older = links.get("next", {}).get("max_id")
            if len(statuses) < PAGE or not older or exhausted:
                break
            params = {"limit": PAGE, "max_id": older}
        return newest

    async def _poll_newer(self, client: HttpClient, url: str, source: Source, cursor: str, read: Timeline) -> str:
        """Forward from the cursor with min_id, page by page. Returns the new cursor."""
        current = cursor
        for _ in range(MAX_PAGES):
            try:
                statuses, links, exhausted = await self._page(client, url, source, {"limit": PAGE, "min_id": current},
                                                              read)
            except CollectorError as error:
                raise _Stopped(error, current) from None
            if not statuses:
                break
            following = links.get("prev", {}).get("min_id") or newest_id(statuses)
            if not following or following == current:
                break
            current = following
            if len(statuses) < PAGE:
                break
            if exhausted:
                read.notes.append("stopped paging: the instance's rate-limit window is used up; the rest next time")
                break
        else:
            read.notes.append(f"more than {MAX_PAGES * PAGE} new posts since the last poll; the rest next time")
        return current

    def parse(self, source: Source, fetched: Fetched, now: datetime) -> Parsed:
        timeline: Timeline = fetched.payload
        parsed = parse_statuses(timeline.statuses, source, self.options(source))
        parsed.warnings.extend(timeline.notes)
        return parsed


class _Stopped(Exception):
    """Paging failed: the error, and the cursor that is safe to keep."""

    def __init__(self, error: CollectorError, cursor: str | None):
        super().__init__(str(error))
        self.error = error
        self.cursor = cursor


def newest_id(statuses: list[Any]) -> str | None:
    """The newest id in a page (ids are numeric strings on Mastodon; longer is newer)."""
    ids = [s["id"] for s in statuses if isinstance(s, dict) and isinstance(s.get("id"), str) and s["id"]]
    return max(ids, key=lambda value: (len(value), value), default=None)
