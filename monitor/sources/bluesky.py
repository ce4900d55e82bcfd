"""Bluesky: post search (``app.bsky.feed.searchPosts``) -> :class:`Item` objects.

Search needs an account: the collector logs in with the handle and an app password
read from the secrets named in ``[bluesky]`` (``com.atproto.server.createSession``)
and sends the access token it gets with every search. How it behaves, and why:

- **Tokens stay in memory.** A :class:`BlueskySession` holds them, never logs them,
  never stores them, and is kept by the application across collection cycles: the
  account logs in once and renews its access token with ``refreshSession`` (when the
  token's own expiry time says so, or when the server answers ``ExpiredToken``), and
  logs in again only when that fails. Bluesky limits logins to 30 in 5 minutes and
  300 a day, far below one per cycle per search. A refused login fails this cycle's
  Bluesky sources with one line naming the secrets to check.
- **Incremental.** Results come newest first (``sort=latest``), paged with an opaque
  ``cursor``. A source keeps the newest post time it has seen (the earlier of the
  post's own ``createdAt`` and Bluesky's ``indexedAt``, which is how search sorts) and
  asks for posts ``since`` an hour before it, for posts indexed late; what the overlap
  reads again is recognised by its ``uri``. The first poll reads one page.
- **One post, one item**, by its ``at://`` uri, whichever search finds it (and a post
  bridged to Mastodon is the same item there). Its link is the post on bsky.app, by
  the account's DID (handles change, DIDs do not).
- **What is kept.** The post's text (links written out from its facets in
  ``summary_html``), the handle as a keyed hash (``hash_authors``), its time, likes as
  ``popularity``, replies as ``comments``, reposts, language, whether it is a reply,
  the linked page of an external embed. Posts labelled sexual, nudity, porn or
  graphic media are skipped unless ``include_sensitive``; posts hidden or taken down
  by moderation always are; accounts that asked not to be shown to logged-out viewers
  (``!no-unauthenticated``) are skipped while ``respect_opt_outs`` is on.
- **Politeness.** A 429 is honoured (``Retry-After``, else ``RateLimit-Reset``) and
  stops the cycle's other Bluesky searches; paging stops when ``RateLimit-Remaining``
  reaches 0. A failure part-way keeps what was read and leaves the cursor, so the
  next poll reads the same span again.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.parse import quote, urlsplit

from monitor.config import BlueskyConfig, read_secret, read_secrets
from monitor.errors import CollectorError, FetchError, ParseError
from monitor.sources.api import (
    HostGuard,
    as_dict,
    as_list,
    decode_json,
    describe_failure,
    error_code,
    error_detail,
    get_json,
    items_from,
    rate_limit_exhausted,
)
from monitor.sources.base import Fetched, Parsed
from monitor.sources.http import HttpClient
from monitor.sources.normalise import (
    author_value,
    clean_text,
    excerpt,
    json_count,
    normalise_url,
    plain_text,
    safe_html,
)
from monitor.types import FetchState, Item, Source, from_iso, to_iso

log = logging.getLogger(__name__)

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"
PAGE = 100  # the most searchPosts returns per request
MAX_PAGES = 10
OVERLAP = timedelta(hours=1)
FUTURE_TOLERANCE = timedelta(days=1)
SENSITIVE_LABELS = {"porn", "sexual", "nudity", "graphic-media", "gore", "!warn"}
HIDDEN_LABELS = {"!hide", "!takedown"}
OPT_OUT_LABEL = "!no-unauthenticated"
TOKEN_ERRORS = {"ExpiredToken", "InvalidToken"}
POST_URI_PREFIX = "at://"


# --- credentials and the session --------------------------------------------------------------


@dataclass(frozen=True)
class BlueskyCredentials:
    identifier: str
    app_password: str = field(repr=False)


def load_credentials(settings: BlueskyConfig, secret: Callable[[str], str | None] = read_secret
                     ) -> tuple[BlueskyCredentials | None, str | None]:
    """(credentials, None), or (None, a one-line reason naming what is missing)."""
    values, missing = read_secrets((settings.handle_env, settings.app_password_env), secret)
    if missing:
        return None, (f"Bluesky credentials missing: {missing} (environment variable or systemd credential;"
                      " an app password from the Bluesky settings)")
    return BlueskyCredentials(values[0], values[1]), None


def token_expiry(token: str) -> float | None:
    """The ``exp`` time (epoch seconds) inside a JWT, read without checking its signature
    (only to renew it in time), or None."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    exp = data.get("exp") if isinstance(data, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


class BlueskySession:
    """An app-password session with the account's server. Tokens are kept in memory
    only: no ``repr``, no log line, no file ever shows them."""

    RENEW_MARGIN = 60.0  # seconds before expiry at which a token is renewed

    def __init__(self, settings: BlueskyConfig, credentials: BlueskyCredentials,
                 clock: Callable[[], float] = time.time):
        self.settings = settings
        self.credentials = credentials
        self.clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires: float | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refused: tuple[asyncio.AbstractEventLoop | None, CollectorError] | None = None
        self.logins = 0  # createSession calls made (for `stats` and tests)
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"BlueskySession({self.credentials.identifier!r}, logged_in={self._access is not None})"

    def _guard(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # each cycle runs its own event loop
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def token(self, client: HttpClient) -> str:
        """A usable access token, logging in or renewing first if needed. A login refused
        in this cycle is not tried again until the next one."""
        async with self._guard():
            if self._access is None and self._refused is not None and self._refused[0] is self._loop:
                raise CollectorError(f"not tried: {self._refused[1]}", status=401)
            if self._access is None:
                await self._create(client)
            elif self._expires is not None and self.clock() >= self._expires - self.RENEW_MARGIN:
                await self._renew(client)
            assert self._access is not None
            return self._access

    async def renew(self, client: HttpClient, stale: str) -> None:
        """The server refused ``stale``: renew it (unless another search already did)."""
        async with self._guard():
            if self._access == stale:
                await self._renew(client)

    async def _renew(self, client: HttpClient) -> None:
        if self._refresh:
            try:
                answer = await self._post(client, REFRESH_SESSION, None, {"Authorization": f"Bearer {self._refresh}"},
                                          "renewing its session")
                self.refreshes += 1
                self._keep(answer)
                return
            except CollectorError as error:
                if error.status == 429:
                    raise
                log.info("Bluesky session could not be renewed (%s); logging in again", error)
        await self._create(client)

    async def _create(self, client: HttpClient) -> None:
        self._access = self._refresh = self._expires = None
        payload = {"identifier": self.credentials.identifier, "password": self.credentials.app_password}
        try:
            answer = await self._post(client, CREATE_SESSION, payload, {}, "logging in")
        except CollectorError as error:
            if error.status in (400, 401):
                detail = error_detail(getattr(error, "body", b"") or b"")
                refused = CollectorError(
                    f"Bluesky refused the login (HTTP {error.status}{': ' + detail if detail else ''}): check"
                    f" {self.settings.handle_env} (the handle) and {self.settings.app_password_env} (an app"
                    " password)", status=401)
                self._refused = (self._loop, refused)
                raise refused from None
            raise
        self.logins += 1
        self._keep(answer)

    def _keep(self, answer: Any) -> None:
        access = answer.get("accessJwt") if isinstance(answer, dict) else None
        refresh = answer.get("refreshJwt") if isinstance(answer, dict) else None
        if not isinstance(access, str) or not access:
            raise ParseError("Bluesky answered the login without an access token")
        self._access = access
        self._refresh = refresh if isinstance(refresh, str) and refresh else None
        self._expires = token_expiry(access)

    async def _post(self, client: HttpClient, path: str, payload: Any, headers: dict[str, str], what: str) -> Any:
        url = self.settings.api_url.rstrip("/") + path
        try:
            response = await client.post_json(url, payload, extra_headers=headers)
        except FetchError as error:
            raise describe_failure(error, "Bluesky", what) from None
        return decode_json(response.body, service="Bluesky", what=what)


# --- posts -> items (pure) ----------------------------------------------------------------------


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return from_iso(value.strip())
    except ValueError:
        return None


def sort_time(post: dict[str, Any]) -> datetime | None:
    """When search sorts a post: the earlier of its ``createdAt`` and ``indexedAt``."""
    record = as_dict(post.get("record"))
    times = [t for t in (_time(record.get("createdAt")), _time(post.get("indexedAt"))) if t is not None]
    return min(times) if times else None


def published_time(post: dict[str, Any]) -> datetime | None:
    """The post's own ``createdAt``, unless missing or in the future of when Bluesky
    indexed it (a wrong clock): then ``indexedAt``."""
    record = as_dict(post.get("record"))
    created, indexed = _time(record.get("createdAt")), _time(post.get("indexedAt"))
    if created is None or (indexed is not None and created > indexed + FUTURE_TOLERANCE):
        return indexed
    return created


def post_url(web_url: str, uri: str) -> str | None:
    """``at://<did>/app.bsky.feed.post/<rkey>`` -> ``https://bsky.app/profile/<did>/post/<rkey>``."""
    if not uri.startswith(POST_URI_PREFIX):
        return None
    parts = uri[len(POST_URI_PREFIX):].split("/")
    if len(parts) != 3 or parts[1] != "app.bsky.feed.post" or not parts[0] or not parts[2]:
        return None
    did, rkey = parts[0], parts[2]
    return normalise_url(f"{web_url.rstrip('/')}/profile/{quote(did, safe=':')}/post/{quote(rkey, safe='')}")


def labels(post: dict[str, Any]) -> set[str]:
    """The label values on a post: moderation labels and the author's self-labels."""
    found: set[str] = set()
    for label in post.get("labels") or []:
        if isinstance(label, dict) and isinstance(label.get("val"), str):
            found.add(label["val"])
    record = as_dict(post.get("record"))
    self_labels = as_dict(record.get("labels"))
    for label in self_labels.get("values") or []:
        if isinstance(label, dict) and isinstance(label.get("val"), str):
            found.add(label["val"])
    return found


def author_labels(post: dict[str, Any]) -> set[str]:
    author = as_dict(post.get("author"))
    return {label["val"] for label in author.get("labels") or []
            if isinstance(label, dict) and isinstance(label.get("val"), str)}


def facet_html(text: str, facets: Any) -> str:
    """The post as HTML with its link facets as links (facets index UTF-8 bytes), sanitised."""
    data = text.encode("utf-8")
    links: list[tuple[int, int, str]] = []
    for facet in facets if isinstance(facets, list) else []:
        index = facet.get("index") if isinstance(facet, dict) else None
        features = facet.get("features") if isinstance(facet, dict) else None
        if not isinstance(index, dict) or not isinstance(features, list):
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data)):
            continue
        for feature in features:
            if (isinstance(feature, dict) and feature.get("$type") == "app.bsky.richtext.facet#link"
                    and isinstance(feature.get("uri"), str) and normalise_url(feature["uri"])):
                links.append((start, end, feature["uri"]))
                break
    out: list[str] = []
    position = 0
    for start, end, uri in sorted(links):
        if start < position:
            continue  # overlapping facets: keep the first
        out.append(html.escape(data[position:start].decode("utf-8", "replace")))
        label = html.escape(data[start:end].decode("utf-8", "replace"))
        out.append(f'<a href="{html.escape(uri, quote=True)}">{label}</a>')
        position = end
    out.append(html.escape(data[position:].decode("utf-8", "replace")))
    return safe_html("".join(out).replace("\r\n", "\n").replace("\n", "<br>"))


def _embedded_link(post: dict[str, Any]) -> str | None:
    record = as_dict(post.get("record"))
    for embed in (record.get("embed"), post.get("embed")):
        if not isinstance(embed, dict):
            continue
        if isinstance(embed.get("media"), dict):  # recordWithMedia
            embed = embed["media"]
        external = embed.get("external")
        if isinstance(external, dict) and isinstance(external.get("uri"), str):
            return normalise_url(external["uri"])
    return None


def _images(post: dict[str, Any]) -> int:
    embed = as_dict(post.get("embed"))
    if isinstance(embed.get("media"), dict):
        embed = as_dict(embed["media"])
    images = embed.get("images")
    return len(images) if isinstance(images, list) else 0


@dataclass(frozen=True)
class PostOptions:
    """What :func:`post_to_item` needs besides the post."""

    web_url: str = "https://bsky.app"
    include_sensitive: bool = False
    hash_authors: bool = True
    respect_opt_outs: bool = True
    hash_key: bytes = b""


def post_to_item(post: dict[str, Any], source: Source, options: PostOptions) -> Item | None:
    """One postView as an Item, or None when it has no post uri or no text."""
    uri = post.get("uri")
    record = as_dict(post.get("record"))
    raw = record.get("text")
    if not isinstance(uri, str) or not uri.startswith(POST_URI_PREFIX) or not isinstance(raw, str):
        return None
    text = plain_text(raw)
    if not text:
        return None
    author = as_dict(post.get("author"))
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    hashed = author_value(handle if handle != "handle.invalid" else None, options)  # handle.invalid: nobody
    langs = as_list(record.get("langs"))
    extra = {
        "network": "bluesky",
        "uri": uri,
        "language": clean_text(langs[0]) if langs and isinstance(langs[0], str) else None,
        "reply": bool(record.get("reply")),
        "link": _embedded_link(post),
        "media": _images(post) or None,
        "reposts": json_count(post.get("repostCount")),
        "quotes": json_count(post.get("quoteCount")),
    }
    return Item(
        id=uri,
        source_id=source.id,
        url=post_url(options.web_url, uri),
        title=excerpt(text),
        text=text,
        summary_html=facet_html(text, record.get("facets")),
        author=hashed,
        published_at=published_time(post),
        extra={key: value for key, value in extra.items() if value not in (None, False)},
        popularity=json_count(post.get("likeCount")),
        comments=json_count(post.get("replyCount")),
    )


def parse_posts(posts: list[Any], source: Source, options: PostOptions) -> Parsed:
    """Items from postViews: labelled, hidden and opted-out posts skipped (counted in the
    log), malformed ones skipped with a warning, each post once."""

    def skip(post: dict[str, Any]) -> str | None:
        found, by_author = labels(post), author_labels(post)
        if (found | by_author) & HIDDEN_LABELS:
            return "hidden or taken down by moderation"
        if options.respect_opt_outs and OPT_OUT_LABEL in by_author:
            return "of accounts that asked not to be shown to logged-out viewers"
        if not options.include_sensitive and (found | by_author) & SENSITIVE_LABELS:
            return "labelled sensitive (bluesky.include_sensitive is off)"
        return None

    return items_from(posts, source, to_item=lambda post: post_to_item(post, source, options), skip=skip,
                      noun="post", unreadable="no post uri or no text",
                      describe=lambda post: repr(clean_text(str(post.get("uri")))[:100]))


# --- the collector --------------------------------------------------------------------------------


@dataclass
class SearchPages:
    """What one poll read: postViews, requests made, and notes for the log."""

    posts: list[Any] = field(default_factory=list)
    requests: int = 0
    notes: list[str] = field(default_factory=list)


class BlueskyCollector:
    """Collects ``bluesky`` sources (see the module docs)."""

    kinds: tuple[str, ...] = ("bluesky",)

    def __init__(self, settings: BlueskyConfig, session: BlueskySession, *, hash_key: bytes = b""):
        if settings.hash_authors and not hash_key:
            raise ValueError("hash_authors needs a hash key")
        self.settings = settings
        self.session = session
        self.options = PostOptions(settings.web_url, settings.include_sensitive, settings.hash_authors,
                                   settings.respect_opt_outs, hash_key)
        self.guard = HostGuard("Bluesky")

    async def fetch(self, source: Source, state: FetchState, client: HttpClient) -> Fetched:
        host = urlsplit(self.settings.api_url).netloc.lower()
        self.guard.check(host)
        query = source.options["query"]
        since = _time(state.cursor)
        params: dict[str, Any] = {"q": query, "sort": "latest", "limit": PAGE}
        if since is not None:
            params["since"] = to_iso(since - OVERLAP)
        read = SearchPages()
        failure: CollectorError | None = None
        complete = since is None  # the first poll reads one page by design
        try:
            for _ in range(1 if since is None else MAX_PAGES):
                data, exhausted = await self._search(client, source, params, read)
                posts = data["posts"]
                read.posts += posts
                following = data.get("cursor") if isinstance(data.get("cursor"), str) else None
                times = [t for t in (sort_time(p) for p in posts if isinstance(p, dict)) if t is not None]
                if not posts or not following or (since is not None and times and max(times) < since - OVERLAP):
                    complete = True
                    break
                if exhausted:
                    read.notes.append("stopped paging: Bluesky's rate-limit window is used up; the rest next time")
                    break
                params["cursor"] = following
            else:
                if since is not None:
                    read.notes.append(f"more than {MAX_PAGES * PAGE} new posts since the last poll; read the newest"
                                      f" {MAX_PAGES * PAGE}")
                    complete = True
        except CollectorError as error:
            self.guard.note(host, error)
            if not read.posts:
                raise
            failure = error
        changes: dict[str, Any] = {}
        if complete:
            times = [t for t in (sort_time(p) for p in read.posts if isinstance(p, dict)) if t is not None]
            newest = max(times + ([since] if since else []), default=None)
            if newest is not None and to_iso(newest) != state.cursor:
                changes["cursor"] = to_iso(newest)
        log.debug("%s: %d post(s) in %d request(s)", source.name, len(read.posts), read.requests)
        return Fetched(status=200, url=source.url or "", payload=read, state_changes=changes, failure=failure)

    async def _search(self, client: HttpClient, source: Source, params: dict[str, Any],
                      read: SearchPages) -> tuple[dict[str, Any], bool]:
        """One search request, renewing the session once if the server refused its token."""
        url = self.settings.api_url.rstrip("/") + SEARCH
        what = f"the search {source.options['query']!r}"
        for attempt in (1, 2):
            token = await self.session.token(client)
            try:
                data, response = await get_json(client, url, service="Bluesky", what=what, params=params,
                                                headers={"Authorization": f"Bearer {token}"})
            except CollectorError as error:
                refused = error.status == 401 or (error.status == 400 and error_code(error) in TOKEN_ERRORS)
                if attempt == 1 and refused:
                    await self.session.renew(client, token)
                    continue
                raise
            read.requests += 1
            if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
                raise ParseError(f"Bluesky answered {what} with something that is not a list of posts")
            return data, rate_limit_exhausted(response.headers)
        raise AssertionError("unreachable")

    def parse(self, source: Source, fetched: Fetched, now: datetime) -> Parsed:
        pages: SearchPages = fetched.payload
        parsed = parse_posts(pages.posts, source, self.options)
        parsed.warnings.extend(pages.notes)
        return parsed
