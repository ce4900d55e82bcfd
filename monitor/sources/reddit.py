"""Reddit: subreddit listings and keyword searches through praw -> :class:`Item` objects.

The only module that imports praw (and prawcore). praw is blocking, so ``fetch`` runs
it on a daemon thread (:func:`~monitor.sources.blocking.in_daemon_thread`: a call
abandoned at its deadline never holds up the process's exit), one request at a time
through one ``praw.Reddit`` kept by the application (:class:`RedditClient`): Reddit's
rate limit is per client, and praw is not thread-safe. praw authenticates, sleeps on
Reddit's ``x-ratelimit-*`` headers and retries server errors; we ask it for the raw
JSON (``Reddit.request``) rather than its objects, so one malformed post is skipped
instead of failing its whole page, and parsing works on Reddit's own wire shape.

How it behaves, and why:

- **Credentials** come from the environment variables / systemd credentials named in
  ``[reddit]`` and are passed to ``praw.Reddit`` explicitly, together with every
  setting a ``praw.ini`` could otherwise supply (endpoints, username, password), so a
  ``praw.ini`` in the working directory is never used to send credentials elsewhere
  or to log in as a user: this is a read-only, app-only client. ``check_for_updates``
  is off (praw would ask PyPI).
- **Incremental.** A source's cursor is the newest post it has seen (``t3_xxx`` and
  its time). A subreddit is polled the way praw's streams do it, with
  ``/r/<name>/new?before=<cursor>``, which returns only newer posts, 100 per page,
  oldest pages first. If that answers nothing, a short ``/new`` listing is read as a
  check, because Reddit answers ``before=`` with nothing forever once the cursor post
  has been deleted; if all of it is newer than the cursor, ``/new`` is paged on with
  ``after=`` down to the cursor's time before the cursor moves. A search (sort new)
  is paged with ``after=`` until it reaches a post no newer than the cursor.
- **Failures.** Rate limiting (429, whose ``Retry-After`` is kept so the source backs
  off at least that long), server errors (after prawcore's own two retries), refused
  credentials, missing or private subreddits and network errors become a
  :class:`~monitor.errors.CollectorError` for that source, never a crash. A 429 or
  refused credentials also stop the rest of this cycle's Reddit sources without a
  request; so does a used-up rate-limit window that would make praw sleep longer than
  :data:`MAX_RATE_LIMIT_WAIT`. Posts fetched before a failure part-way through paging
  are still stored.
- **Privacy.** Usernames are stored as keyed hashes (``hash_authors``); NSFW posts are
  skipped unless ``include_nsfw``; posts already deleted or removed upstream are never
  stored, and are purged if they were.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlsplit

from monitor.config import RedditConfig, read_secret, read_secrets
from monitor.errors import CollectorError, FetchError, ParseError
from monitor.schedule import retry_after_seconds
from monitor.sources.api import HostGuard
from monitor.sources.base import Fetched, Parsed
from monitor.sources.blocking import in_daemon_thread
from monitor.sources.http import HttpClient
from monitor.sources.normalise import (
    author_value,
    clean_text,
    excerpt,
    json_number,
    normalise_url,
    plain_text,
    safe_html,
)
from monitor.types import FetchState, Item, Source, from_epoch, from_iso, to_iso

log = logging.getLogger(__name__)

PAGE = 100  # Reddit's largest page
MAX_PAGES = 10  # Reddit lists at most ~1000 posts; more pages than this in one poll is a backlog
CHECK_PAGE = 25  # posts read to check a ``before=`` poll that answered nothing
INFO_BATCH = 100  # fullnames per /api/info request
MAX_RATE_LIMIT_WAIT = 10.0  # seconds praw may sleep for a used-up rate-limit window; longer fails the source
FULLNAME = re.compile(r"t3_[a-z0-9]{1,13}")
COMMENT_FULLNAME = re.compile(r"t1_[a-z0-9]{1,13}")
GONE_TEXT = {"[deleted]", "[removed]"}
GONE_TITLES = {"[deleted by user]", "[removed by reddit]"}

BOTS = {"automoderator"}  # comments that are not people talking


# --- configuration and credentials -----------------------------------------------------


@dataclass(frozen=True)
class RedditCredentials:
    client_id: str
    client_secret: str = field(repr=False)


def load_credentials(settings: RedditConfig,
                     secret: Callable[[str], str | None] = read_secret) -> tuple[RedditCredentials | None, str | None]:
    """(credentials, None), or (None, a one-line reason naming what is missing)."""
    values, missing = read_secrets((settings.client_id_env, settings.client_secret_env), secret)
    if missing:
        return None, f"Reddit credentials missing: {missing} (environment variable or systemd credential)"
    return RedditCredentials(values[0], values[1]), None


# --- cursors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """The newest post a source has seen: stored as ``t3_kzj68i 2021-01-18T00:44:29Z``."""

    fullname: str
    created: float | None = None

    def encode(self) -> str:
        if self.created is None:
            return self.fullname
        return f"{self.fullname} {to_iso(from_epoch(self.created))}"

    @classmethod
    def decode(cls, value: str | None) -> "Cursor | None":
        if not value or not value.strip():
            return None
        name, _, when = value.strip().partition(" ")
        if not FULLNAME.fullmatch(name):
            return None
        try:
            moment = from_iso(when) if when else None
        except ValueError:
            moment = None
        return cls(name, moment.timestamp() if moment else None)


def newest(posts: Iterable[dict[str, Any]], current: Cursor | None = None) -> Cursor | None:
    """The cursor after seeing ``posts``: the newest of them and ``current``."""
    best = current
    for post in posts:
        created = _created(post)
        name = post.get("name")
        if not isinstance(name, str) or not FULLNAME.fullmatch(name) or created is None:
            continue
        if best is None or best.created is None or created > best.created or (
                created == best.created and _id36(name) > _id36(best.fullname)):
            best = Cursor(name, created)
    return best


def _newer(post: dict[str, Any], cursor: Cursor) -> bool:
    """Whether ``post`` comes after ``cursor`` in ``/new`` (by time, then id)."""
    name = post.get("name")
    if name == cursor.fullname:
        return False
    created = _created(post)
    if cursor.created is None or created is None:  # no time to compare: only the cursor post itself is not newer
        return True
    return created > cursor.created or (created == cursor.created and _id36(str(name)) > _id36(cursor.fullname))


def _id36(fullname: str) -> int:
    try:
        return int(fullname[3:], 36)
    except ValueError:
        return -1


def _created(record: dict[str, Any]) -> float | None:
    """``created_utc`` if it is a time (in range): otherwise the post has no time."""
    created = json_number(record.get("created_utc"))
    if created is None:
        return None
    try:
        from_epoch(created)
    except ValueError:
        return None
    return created


# --- posts -> items (pure) ----------------------------------------------------------------


def gone_reason(post: dict[str, Any]) -> str | None:
    """Why a post (or comment) is no longer public (``deleted``, ``moderator`` ...), or
    None if it is."""
    category = post.get("removed_by_category")
    if category:
        return str(category)
    text = post.get("selftext") if "selftext" in post else post.get("body")
    if text in GONE_TEXT and post.get("author") in (None, "[deleted]"):
        return "deleted"
    if text == "[removed]":
        return "removed"
    if post.get("title") in GONE_TITLES:
        return "deleted"
    return None


def author_gone(post: dict[str, Any]) -> bool:
    """The author deleted their account; the post itself may still be up."""
    return post.get("author") in (None, "", "[deleted]")


@dataclass(frozen=True)
class PostOptions:
    """What :func:`post_to_item` needs besides the post."""

    reddit_url: str = "https://www.reddit.com"
    include_nsfw: bool = False
    hash_authors: bool = True
    hash_key: bytes = b""


def post_to_item(post: dict[str, Any], source: Source, options: PostOptions) -> Item:
    """One post (Reddit's t3 ``data``, author and subreddit as names) as an Item.

    ``url`` is the post's absolute permalink; a link post's target goes to
    ``extra["link"]`` (so a Reddit post never merges with the news article it links to).
    """
    base = options.reddit_url.rstrip("/") + "/"
    permalink = normalise_url(str(post.get("permalink") or ""), base=base)
    link = None
    if not post.get("is_self"):
        link = normalise_url(str(post.get("url_overridden_by_dest") or post.get("url") or ""), base=base)
        if link == permalink:
            link = None
    created = _created(post)
    published = from_epoch(created) if created is not None else None
    author = author_value(post.get("author"), options)
    selftext = post.get("selftext") if isinstance(post.get("selftext"), str) else ""
    html = post.get("selftext_html") if isinstance(post.get("selftext_html"), str) else ""
    extra = {
        "subreddit": clean_text(str(post.get("subreddit") or "")) or None,
        "nsfw": bool(post.get("over_18")),
        "link": link,
        "domain": clean_text(str(post.get("domain") or "")) or None,
        "flair": clean_text(post.get("link_flair_text")) if isinstance(post.get("link_flair_text"), str) else None,
        "upvote_ratio": json_number(post.get("upvote_ratio")),
        "crosspost_parent": post.get("crosspost_parent") if isinstance(post.get("crosspost_parent"), str) else None,
    }
    score, comments = json_number(post.get("score")), json_number(post.get("num_comments"))
    return Item(
        id=str(post["name"]),
        source_id=source.id,
        url=permalink,
        title=clean_text(str(post.get("title") or "")),
        text=plain_text(selftext),
        summary_html=safe_html(html) if html else safe_html(selftext, plain=True),
        author=author,
        published_at=published,
        extra={key: value for key, value in extra.items() if value is not None},
        popularity=int(score) if score is not None else None,
        comments=int(comments) if comments is not None else None,
    )


def parse_posts(posts: Iterable[Any], source: Source, options: PostOptions) -> Parsed:
    """Items from a list of posts: NSFW posts skipped unless asked for, posts already
    deleted upstream listed for purging, malformed posts skipped with a warning."""
    items: list[Item] = []
    deleted: list[str] = []
    warnings: list[str] = []
    seen: set[str] = set()
    nsfw = 0
    for post in posts:
        name = post.get("name") if isinstance(post, dict) else None
        if not isinstance(name, str) or not FULLNAME.fullmatch(name):
            warnings.append(f"skipped a post without a valid id ({str(name)[:40]!r})")
            continue
        if name in seen:
            continue
        seen.add(name)
        if gone_reason(post):
            deleted.append(name)
            continue
        if post.get("over_18") and not options.include_nsfw:
            nsfw += 1
            continue
        items.append(post_to_item(post, source, options))
    if nsfw:
        log.info("%s: skipped %d NSFW post(s) (reddit.include_nsfw is off)", source.name, nsfw)
    return Parsed(items=items, warnings=warnings, deleted=deleted)


@dataclass(frozen=True)
class ParentPost:
    """What a comment's item needs to know about its post."""

    fullname: str
    title: str
    subreddit: str | None = None
    url: str | None = None  # the post's permalink, absolute


def comment_to_item(comment: dict[str, Any], parent: ParentPost, source: Source, options: PostOptions) -> Item:
    """One top-level comment (Reddit's t1 ``data``) as an Item: its own permalink as
    ``url``, an excerpt of it as ``title``, its post in ``extra["parent"]``."""
    base = options.reddit_url.rstrip("/") + "/"
    body = comment.get("body") if isinstance(comment.get("body"), str) else ""
    html = comment.get("body_html") if isinstance(comment.get("body_html"), str) else ""
    text = plain_text(body)
    title = excerpt(text)
    created = _created(comment)
    author = author_value(comment.get("author"), options)
    score = json_number(comment.get("score"))
    url = normalise_url(str(comment.get("permalink") or ""), base=base)
    if url is None and parent.url and isinstance(comment.get("id"), str):  # older answers carry no permalink
        url = normalise_url(f"{parent.url.rstrip('/')}/{comment['id']}/")
    extra = {"kind": "comment", "parent": parent.fullname, "parent_title": parent.title,
             "subreddit": clean_text(str(comment.get("subreddit") or parent.subreddit or "")) or None}
    return Item(
        id=str(comment["name"]),
        source_id=source.id,
        url=url,
        title=title,
        text=text,
        summary_html=safe_html(html) if html else safe_html(body, plain=True),
        author=author,
        published_at=from_epoch(created) if created is not None else None,
        extra={key: value for key, value in extra.items() if value is not None},
        popularity=int(score) if score is not None else None,
    )


def parse_comments(comments: Iterable[Any], parent: ParentPost, source: Source, options: PostOptions,
                   limit: int) -> list[Item]:
    """The first ``limit`` top-level comments by people: replies, deleted or removed
    comments, stickied notices and AutoModerator are left out."""
    items: list[Item] = []
    for comment in comments:
        if len(items) >= limit:
            break
        if not isinstance(comment, dict) or not COMMENT_FULLNAME.fullmatch(str(comment.get("name") or "")):
            continue
        if comment.get("parent_id") not in (None, parent.fullname) or gone_reason(comment):
            continue
        if comment.get("stickied") or str(comment.get("author") or "").lower() in BOTS:
            continue
        items.append(comment_to_item(comment, parent, source, options))
    return items


# --- errors ------------------------------------------------------------------------------


def translate_error(error: BaseException, settings: RedditConfig, what: str) -> CollectorError | None:
    """A praw/prawcore exception as a one-line :class:`CollectorError`, or None if it is
    not an API error (a bug, to be raised)."""
    import praw.exceptions
    import prawcore.exceptions as pc

    if isinstance(error, pc.TooManyRequests):
        retry = retry_after_seconds(error.retry_after)
        message = "Reddit rate limit (HTTP 429)"
        if retry is not None:
            message += f"; Retry-After {retry:g} s"
        return CollectorError(message, retry_after=retry, status=429)
    if isinstance(error, pc.ServerError):
        status = error.response.status_code
        return FetchError(f"Reddit server error (HTTP {status}) {what}, after 3 attempts", status=status)
    if isinstance(error, CollectorError):
        return error
    if isinstance(error, pc.Redirect):
        return CollectorError(f"Reddit redirected {what} to {error.path!r}: no such subreddit?")
    if isinstance(error, pc.BadJSON):
        return ParseError(f"Reddit answered {what} with something that is not JSON", status=error.response.status_code)
    if isinstance(error, pc.OAuthException):
        return CollectorError(f"Reddit refused the credentials ({error.error}): check {settings.client_id_env}"
                              f" and {settings.client_secret_env}", status=401)
    if isinstance(error, pc.ResponseException):
        status = error.response.status_code
        if status == 401:
            return CollectorError(f"Reddit refused the credentials (HTTP 401): check {settings.client_id_env}"
                                  f" and {settings.client_secret_env}", status=401)
        if status == 429:
            retry = retry_after_seconds(error.response.headers.get("retry-after"))
            return CollectorError("Reddit rate limit (HTTP 429)" + (f"; Retry-After {retry:g} s" if retry else ""),
                                  retry_after=retry, status=429)
        if status == 403:
            return CollectorError(f"Reddit refused access to {what} (HTTP 403): private, quarantined or banned?",
                                  status=403)
        if status == 404:
            return CollectorError(f"Reddit answered HTTP 404 {what}: no such subreddit?", status=404)
        return FetchError(f"Reddit answered HTTP {status} {what}", status=status)
    if isinstance(error, pc.RequestException):
        cause = error.original_exception
        return FetchError(f"cannot reach Reddit ({type(cause).__name__}: {str(cause)[:160]})")
    if isinstance(error, pc.PrawcoreException):
        return CollectorError(f"Reddit API error {what}: {str(error)[:200]}")
    if isinstance(error, praw.exceptions.PRAWException):
        return CollectorError(f"praw error {what}: {str(error)[:200]}")
    if isinstance(error, ValueError):  # a body that is not the JSON praw expects
        return CollectorError(f"Reddit sent an answer praw could not read {what}: {str(error)[:160]}")
    return None


# --- the collector -------------------------------------------------------------------------


@dataclass
class Listing:
    """What one fetch read: posts in Reddit's shape, the requests it took, and the
    cursor to keep if paging stops part-way (the newest post read *contiguously* from
    the old cursor: everything older than it has been read)."""

    posts: list[dict[str, Any]]
    requests: int = 0
    partial_cursor: Cursor | None = None
    notes: list[str] = field(default_factory=list)  # for the log, one line each


class RedditClient:
    """One ``praw.Reddit`` (one access token, one rate-limit budget) for the life of a
    :class:`~monitor.app.Monitor`, shared by its cycles, comments and re-checks, as
    Reddit's rate limit is per client. praw is not thread-safe: every call goes through
    :meth:`locked`, one at a time.

    Two waits of praw's are bounded here. A call that holds the client (one abandoned
    at its deadline, still running on its daemon thread) makes the next wait at most
    ``lock_wait`` seconds, then fail. And prawcore sleeps until Reddit's rate-limit
    window resets (up to ten minutes) once ``x-ratelimit-remaining`` reaches 0, which
    praw has no setting for: the headers are read here too, and a request that would
    sleep longer than :data:`MAX_RATE_LIMIT_WAIT` fails as a rate limit instead, so the
    source backs off until the reset.
    """

    def __init__(self, settings: RedditConfig, credentials: RedditCredentials, *, timeout: float = 30.0,
                 lock_wait: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.credentials = credentials
        self.timeout = timeout
        self.lock_wait = timeout if lock_wait is None else lock_wait
        self.clock = clock
        self._reddit: Any = None
        self._session: Any = None
        self._lock = threading.Lock()
        self._stuck = False  # a wait for the lock failed, and nobody has held it since
        self._window_ends: float | None = None  # when a used-up rate-limit window resets (clock time)

    def __repr__(self) -> str:
        return f"RedditClient({self.settings.oauth_url!r}, connected={self._reddit is not None})"

    @contextmanager
    def locked(self, what: str) -> Iterator["RedditClient"]:
        """Hold the client for one piece of work; fail if it stays busy ``lock_wait`` s
        (and at once while the call that made an earlier wait fail is still running, so
        a cycle's other sources do not each wait as long)."""
        if not self._lock.acquire(timeout=0 if self._stuck else self.lock_wait):
            self._stuck = True
            raise CollectorError(f"not tried {what}: an earlier Reddit request that outlived its deadline is"
                                 " still running")
        self._stuck = False
        try:
            yield self
        finally:
            self._lock.release()

    def reddit(self) -> Any:
        """The praw client, built on first use."""
        if self._reddit is None:
            import praw
            import requests

            self._session = requests.Session()  # ours, so that close() can close it
            self._session.hooks["response"].append(self._note_rate_limit)
            self._reddit = praw.Reddit(
                client_id=self.credentials.client_id,
                client_secret=self.credentials.client_secret,
                user_agent=self.settings.user_agent.strip(),
                oauth_url=self.settings.oauth_url.rstrip("/"),
                reddit_url=self.settings.reddit_url.rstrip("/"),
                # Everything a praw.ini or praw_* variable could otherwise supply:
                username=None, password=None, refresh_token=None, redirect_uri=None,
                check_for_updates=False, check_for_async=False,
                timeout=max(1, math.ceil(self.timeout)), window_size=600,
                ratelimit_seconds=5,  # the longest praw sleeps on an API "RATELIMIT" error (it raises beyond)
                site_name="DEFAULT",
                requestor_kwargs={"session": self._session},
            )
            self._reddit.read_only = True
        return self._reddit

    def get(self, path: str, params: dict[str, Any]) -> Any:
        """One GET through praw (auth, rate limit, retries), as the decoded JSON. Call
        it inside :meth:`locked`."""
        if self._window_ends is not None:
            wait = self._window_ends - self.clock()
            if wait > MAX_RATE_LIMIT_WAIT:
                raise CollectorError(f"Reddit rate limit: this client's requests are used up for {wait:.0f} s"
                                     " (x-ratelimit-remaining 0)", retry_after=math.ceil(wait), status=429)
        return self.reddit().request(method="GET", path=path, params=params)

    def _note_rate_limit(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """A requests response hook: when the window resets if no requests are left (as
        prawcore reads the same headers)."""
        headers = response.headers
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, TypeError, ValueError):
            return
        self._window_ends = self.clock() + max(1.0, reset) if remaining <= 0 else None

    def close(self) -> None:
        """Close the HTTP connections; a later call builds a new praw client."""
        if self._session is not None:
            self._session.close()
        self._reddit = self._session = None


class RedditCollector:
    """Collects ``reddit_subreddit`` and ``reddit_search`` sources (see module docs).

    One collector serves one cycle (its :class:`~monitor.sources.api.HostGuard` is the
    cycle's); ``client`` is the :class:`RedditClient` to use, kept by the application
    across cycles. Without one the collector makes its own and closes it in ``close``.
    """

    kinds: tuple[str, ...] = ("reddit_subreddit", "reddit_search")

    def __init__(self, settings: RedditConfig, credentials: RedditCredentials, *, hash_key: bytes = b"",
                 timeout: float = 30.0, client: RedditClient | None = None):
        if settings.hash_authors and not hash_key:
            raise ValueError("hash_authors needs a hash key")
        self.settings = settings
        self.credentials = credentials
        self.options = PostOptions(settings.reddit_url, settings.include_nsfw, settings.hash_authors, hash_key)
        self._own_client = client is None
        self.client = client if client is not None else RedditClient(settings, credentials, timeout=timeout)
        self.guard = HostGuard("Reddit")
        self._host = urlsplit(settings.oauth_url).netloc.lower()
        self._queue: asyncio.Lock | None = None
        self.abandoned = 0  # fetches given up at a deadline while praw was still working on them

    def close(self) -> None:
        """Close the client if this collector made it (a shared one stays open)."""
        if self._own_client:
            self.client.close()

    # the collector protocol
    async def fetch(self, source: Source, state: FetchState, client: HttpClient) -> Fetched:
        if self._queue is None:
            self._queue = asyncio.Lock()
        async with self._queue:  # waiting here is cancellable by the loop's deadline
            self.guard.check(self._host)
            try:
                fetched: Fetched = await in_daemon_thread(self._fetch_blocking, source, state, name="monitor-reddit",
                                                          abandoned=self._abandoned)
            except CollectorError as failure:
                self.guard.note(self._host, failure)
                raise
            if fetched.failure is not None:
                self.guard.note(self._host, fetched.failure)
            return fetched

    def _abandoned(self) -> None:
        self.abandoned += 1
        log.warning("a Reddit request outlived its deadline and was abandoned; it finishes on its own")

    def parse(self, source: Source, fetched: Fetched, now: datetime) -> Parsed:
        listing: Listing = fetched.payload
        parsed = parse_posts(listing.posts, source, self.options)
        parsed.warnings.extend(listing.notes)
        return parsed

    # the work, in a daemon thread
    def _fetch_blocking(self, source: Source, state: FetchState) -> Fetched:
        what = f"for {source.name}"
        with self.client.locked(what):
            cursor = Cursor.decode(state.cursor)
            listing = Listing([])
            failure: CollectorError | None = None
            try:
                if source.kind == "reddit_subreddit":
                    new_cursor = self._poll_subreddit(source.options["subreddit"], cursor, listing)
                else:
                    new_cursor = self._poll_search(source.options["query"], source.options["subreddit"], cursor,
                                                   listing)
            except Exception as error:
                failure = translate_error(error, self.settings, what)
                if failure is None:
                    raise
                failure.__cause__ = None
                if not listing.posts:
                    raise failure from None
                # Keep what was read before the failure; see _poll_* for the cursor.
                new_cursor = listing.partial_cursor
            changes = {"cursor": new_cursor.encode()} if new_cursor and new_cursor != cursor else {}
            log.debug("%s: %d post(s) in %d request(s)", source.name, len(listing.posts), listing.requests)
            return Fetched(status=200, url=source.url or "", payload=listing, state_changes=changes,
                           failure=failure)

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        return self.client.get(path, params)

    def _page(self, path: str, params: dict[str, Any], listing: Listing) -> list[dict[str, Any]]:
        """One request for one listing page, as post records."""
        records, _after = listing_page(self._get(path, params), path)
        listing.requests += 1
        return records

    def _poll_subreddit(self, name: str, cursor: Cursor | None, listing: Listing) -> Cursor | None:
        """``/r/<name>/new``: the newest page the first time, then ``before=`` pages
        (each the 100 posts just newer than the last) until a short page; when those
        answer nothing, :meth:`_read_down_to` the cursor from the newest post."""
        path = f"r/{name}/new"
        listing.partial_cursor = cursor
        if cursor is None:
            page = self._page(path, {"limit": PAGE}, listing)
            listing.posts += page
            return newest(page)
        current = cursor
        for _ in range(MAX_PAGES):
            page = self._page(path, {"before": current.fullname, "limit": PAGE}, listing)
            listing.posts += page
            current = newest(page, current) or current
            listing.partial_cursor = current
            if len(page) < PAGE:
                break
        if not listing.posts:
            # Nothing newer, or the cursor post is gone (then before= answers nothing forever).
            current = self._read_down_to(path, cursor, listing)
        return current

    def _read_down_to(self, path: str, cursor: Cursor, listing: Listing) -> Cursor:
        """Read ``/new`` from the newest post down (a short page first: usually nothing is
        newer) with ``after=``, until a post no newer than ``cursor``; returns the new
        cursor. Failing part-way, the cursor stays (``listing.partial_cursor``): what was
        read is not joined to it. After :data:`MAX_PAGES` pages the cursor moves to the
        newest post read, with one warning: Reddit lists only about that many posts, so
        any older ones in between cannot be read any more."""
        params: dict[str, Any] = {"limit": CHECK_PAGE}
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES if cursor.created is not None else 1):  # an old cursor without a time: one page
            records, after = listing_page(self._get(path, params), path)
            listing.requests += 1
            reached = False
            for record in records:
                if not _newer(record, cursor):
                    reached = True
                    break
                found.append(record)
                listing.posts.append(record)
            if reached or not after:
                return newest(found, cursor) or cursor
            params = {"limit": PAGE, "after": after}
        if cursor.created is not None:
            times = [t for t in (_created(p) for p in found) if t is not None]
            oldest = to_iso(from_epoch(min(times))) if times else "?"
            listing.notes.append(
                f"the newest post of the last poll ({cursor.fullname}) is gone from Reddit and more than"
                f" {len(found)} posts are newer than it: read the newest {len(found)}, back to {oldest}; any"
                f" published between {to_iso(from_epoch(cursor.created))} and then"
                " were not read (Reddit lists no further)")
        return newest(found, cursor) or cursor

    def _poll_search(self, query: str, subreddit: str, cursor: Cursor | None, listing: Listing) -> Cursor | None:
        """A search, newest first (the first time one page), paged with ``after=`` until
        a post no newer than the cursor. Stopped part-way, the cursor does not move (the
        older posts are still unread)."""
        listing.partial_cursor = cursor
        path = f"r/{subreddit}/search/"
        params: dict[str, Any] = {"q": query, "restrict_sr": subreddit.lower() != "all", "sort": "new",
                                  "syntax": "lucene", "t": "all", "limit": PAGE}
        found: list[dict[str, Any]] = []
        for _ in range(1 if cursor is None else MAX_PAGES):
            records, after = listing_page(self._get(path, params), path)
            listing.requests += 1
            reached = False
            for record in records:
                created = _created(record)
                if cursor is not None and (record.get("name") == cursor.fullname or (
                        cursor.created is not None and created is not None and created < cursor.created)):
                    reached = True
                    break
                found.append(record)
                listing.posts.append(record)
            if reached or not after:
                break
            params["after"] = after
        return newest(found, cursor)

    # re-checking stored posts
    def lookup(self, fullnames: list[str]) -> dict[str, dict[str, Any]]:
        """Reddit's current view of up to 100 posts or comments (``/api/info``), by
        fullname. Things Reddit no longer returns are absent. Raises CollectorError."""
        if len(fullnames) > INFO_BATCH:
            raise ValueError(f"at most {INFO_BATCH} fullnames per lookup")
        with self.client.locked("for the deletion re-check"):
            try:
                answer = self._get("api/info/", {"id": ",".join(fullnames)})
                records, _after = listing_page(answer, "api/info", kinds=("t3", "t1"))
            except Exception as error:
                failure = translate_error(error, self.settings, "for the deletion re-check")
                if failure is None:
                    raise
                raise failure from None
        return {record["name"]: record for record in records if isinstance(record.get("name"), str)}

    # comments
    def top_comments(self, fullname: str, limit: int) -> list[dict[str, Any]]:
        """The top-level comments of a post, best first (``/comments/<id>?depth=1&sort=top``,
        one request), as records in Reddit's t1 shape. Raises CollectorError."""
        path = f"comments/{fullname[3:]}/"
        with self.client.locked(f"for the comments of {fullname}"):
            try:
                answer = self._get(path, {"limit": max(limit * 2, 10), "depth": 1, "sort": "top"})
                if not isinstance(answer, list) or len(answer) < 2:
                    raise ParseError(f"Reddit answered /{path} with something that is not a post and its comments")
                records, _after = listing_page(answer[1], path, kinds=("t1",))
            except Exception as error:
                failure = translate_error(error, self.settings, f"for the comments of {fullname}")
                if failure is None:
                    raise
                raise failure from None
        return records


def listing_page(answer: Any, path: str, *, kinds: tuple[str, ...] = ("t3",)) -> tuple[list[dict[str, Any]], str | None]:
    """(the ``data`` of each child of a Listing of the given kinds, its ``after``).
    A child that is not an object is dropped here; a post without a valid id is left
    for :func:`parse_posts` to warn about. Anything but a Listing is a ParseError."""
    if not isinstance(answer, dict) or answer.get("kind") != "Listing" or not isinstance(answer.get("data"), dict):
        raise ParseError(f"Reddit answered /{path.strip('/')} with something that is not a listing")
    children = answer["data"].get("children")
    if not isinstance(children, list):
        raise ParseError(f"Reddit answered /{path.strip('/')} with a listing without children")
    after = answer["data"].get("after")
    records = [child["data"] for child in children
               if isinstance(child, dict) and child.get("kind") in kinds and isinstance(child.get("data"), dict)]
    return records, after if isinstance(after, str) and after else None
