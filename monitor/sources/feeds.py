"""RSS/Atom: bytes + response headers -> :class:`~monitor.types.Item` objects.

The only module that imports feedparser. Fetching is done by :mod:`monitor.sources.http`;
feedparser never touches the network (it has no timeout) and never sees a document
whose prolog declares entities (its loose fallback parser would expand them).
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from monitor.errors import FetchError, ParseError
from monitor.sources.base import Fetched, Parsed
from monitor.sources.http import HttpClient
from monitor.sources.normalise import (
    clean_text,
    html_to_text,
    item_key,
    normalise_url,
    safe_html,
)
from monitor.types import FetchState, Item, Source

log = logging.getLogger(__name__)

_ENTITY_DECLARATION = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
# Clock skew allowance: a date further in the future than this is treated as missing.
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed document yielded: its items, its own title, and skipped-entry notes."""

    items: list[Item]
    title: str = ""
    warnings: list[str] = field(default_factory=list)
    entries: int = 0


_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)", re.IGNORECASE)


def _ascii_compatible(body: bytes, content_type: str) -> bool:
    """True when "<!ENTITY" in the document is "<!ENTITY" in its bytes too: no NUL
    bytes (UTF-16/32), no EBCDIC start, and a declared charset, if any, that encodes
    ASCII as itself. Only other documents need decoding before the check."""
    head = body[:4096]
    if b"\x00" in head or head.startswith(b"\x4c\x6f\xa7\x94"):
        return False
    declared = [m.group(1) for m in (_CHARSET.search(content_type),) if m]
    declared += [m.group(1).decode("ascii", "replace") for m in (_XML_ENCODING.search(head[:1024]),) if m]
    for charset in declared:  # e.g. utf-7 writes "<" as "+ADw-"
        try:
            if "<!ENTITY".encode(charset) != b"<!ENTITY":
                return False
        except (LookupError, UnicodeError):
            return False
    return True


def check_entities(body: bytes, headers: Mapping[str, str] | None = None) -> None:
    """Refuse documents that declare XML entities, anywhere.

    Real feeds never need them, and they are how billion-laughs, quadratic blow-up
    and external-entity attacks are delivered; feedparser's lenient fallback parser
    expands a large entity even where expat refuses the document. The check runs on
    the bytes feedparser itself will parse (decoded by its own rules, from the
    response's charset as well as any byte-order mark or XML declaration), so no
    encoding trick or comment placed before the DOCTYPE can hide a declaration.
    (A bare ``<!DOCTYPE rss PUBLIC ...>``, as old RSS 0.91 feeds have, declares
    nothing and is fine.)
    """
    from feedparser.encodings import convert_to_utf8

    if _ENTITY_DECLARATION.search(body):
        raise ParseError("refused: the document declares XML entities")
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    if _ascii_compatible(body, lowered.get("content-type", "")):
        return  # any declaration would have shown in the raw bytes
    try:
        converted = convert_to_utf8(lowered, body, {})
    except Exception:  # feedparser will fail on it too; the parse reports that
        return
    if _ENTITY_DECLARATION.search(converted):
        raise ParseError("refused: the document declares XML entities")


def _when(entry: Any, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = dict.get(entry, key)  # plain lookup: FeedParserDict's own aliases warn
        if parsed:
            try:
                moment = datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc)
            except (OverflowError, ValueError, OSError):
                continue
            if moment > now + FUTURE_TOLERANCE:
                return None
            return moment
    return None


def _detail_html(detail: Any) -> tuple[str, bool]:
    """(value, is_plain) of a feedparser text construct."""
    if not detail:
        return "", False
    value = detail.get("value") or ""
    kind = (detail.get("type") or "text/html").lower()
    return value, kind == "text/plain"


def entry_to_item(entry: Any, source: Source, base_url: str, now: datetime) -> Item | None:
    """One feedparser entry as an Item, or None when it cannot be identified."""
    link = entry.get("link") or ""
    if not link:
        for candidate in entry.get("links") or []:
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    url = normalise_url(link, base=base_url)
    guid = clean_text(entry.get("id")) or None
    key = item_key(source.id, guid=guid, url=url)
    if key is None:
        return None

    title_value, title_plain = _detail_html(entry.get("title_detail")) if entry.get("title_detail") else (
        entry.get("title") or "", True)
    title = clean_text(title_value if title_plain else html_to_text(title_value))

    content_value, content_plain = "", False
    for content in entry.get("content") or []:
        if content.get("value") and len(content["value"]) > len(content_value):
            content_value, content_plain = content["value"], (content.get("type") or "").lower() == "text/plain"
    summary_value, summary_plain = _detail_html(entry.get("summary_detail"))
    if not summary_value and entry.get("summary"):
        summary_value, summary_plain = entry["summary"], False

    body_value, body_plain = (content_value, content_plain) if content_value else (summary_value, summary_plain)
    text = html_to_text(body_value) if not body_plain else html_to_text(body_value.replace("<", "&lt;"))
    summary_source, summary_is_plain = (summary_value, summary_plain) if summary_value else (body_value, body_plain)
    summary_html = safe_html(summary_source, plain=summary_is_plain)

    if not title and not text:
        return None
    if not title:
        title = clean_text(text[:120])

    author = clean_text(entry.get("author")) or None
    categories = [clean_text(tag.get("term")) for tag in entry.get("tags") or [] if tag.get("term")]
    extra: dict[str, Any] = {}
    if categories:
        extra["categories"] = categories[:20]
    publisher = clean_text((entry.get("source") or {}).get("title"))
    if publisher:  # news-search feeds name the outlet that published the story
        extra["publisher"] = publisher
    return Item(
        id=key,
        source_id=source.id,
        url=url,
        title=title,
        text=text,
        summary_html=summary_html,
        author=author,
        published_at=_when(entry, now),
        guid=guid,
        extra=extra,
    )


def parse_feed(body: bytes, headers: Mapping[str, str], url: str, source: Source, now: datetime) -> ParsedFeed:
    """Parse one fetched feed document.

    Raises :class:`ParseError` when the document is refused, empty, not a feed, or
    so broken that no entry survives; a bozo feed that still yields entries is fine
    (its problem is returned as a warning).
    """
    import feedparser

    if not body.strip():
        raise ParseError("empty response: no feed document")
    response_headers = {k.lower(): v for k, v in headers.items()}
    check_entities(body, response_headers)
    # Base for relative links: the Content-Location if the server sent one, else the URL.
    response_headers["content-location"] = response_headers.get("content-location") or url
    # feedparser's own sanitiser is skipped: it is slow and keeps tracking images anyway;
    # every piece of HTML we keep goes through the nh3 allow-list in safe_html instead.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers, sanitize_html=False)
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries:
        if _looks_like_html(body):
            raise ParseError("not a feed: the server sent an HTML page")
        if bozo is not None:
            raise ParseError(f"not a usable feed: {_describe_bozo(bozo)}")
        if not version:
            raise ParseError("not a feed: not an RSS or Atom document")
    items: list[Item] = []
    warnings: list[str] = []
    if bozo is not None:
        warnings.append(f"feed is not well-formed but usable: {_describe_bozo(bozo)}")
    base = response_headers["content-location"]
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            item = entry_to_item(entry, source, base, now)
        except Exception as error:  # one odd entry must not lose the others
            warnings.append(f"entry {index}: skipped: {type(error).__name__}: {error}")
            continue
        if item is None:
            warnings.append(f"entry {index}: skipped: no id, link, title or text")
            continue
        if item.id in seen:
            continue  # the same entry twice in one document
        seen.add(item.id)
        items.append(item)
    feed_title = clean_text((parsed.get("feed") or {}).get("title"))
    return ParsedFeed(items=items, title=feed_title, warnings=warnings, entries=len(entries))


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html") or b"<html" in head[:512]


def _describe_bozo(error: BaseException) -> str:
    """``broken XML at line 19, column 84: no element found`` rather than a SAX repr."""
    import xml.sax

    if isinstance(error, xml.sax.SAXParseException):
        return (f"broken XML at line {error.getLineNumber()}, column {error.getColumnNumber()}: "
                f"{clean_text(error.getMessage())}")
    name = type(error).__name__
    message = clean_text(str(error))
    return f"{name}: {message}" if message else name


class FeedCollector:
    """RSS/Atom feeds and news-search feeds: conditional GET, then :func:`parse_feed`."""

    kinds: tuple[str, ...] = ("feed", "query")

    async def fetch(self, source: Source, state: FetchState, client: HttpClient) -> Fetched:
        url = state.url or source.url
        if not url:
            raise FetchError("source has no URL")
        response = await client.get(url, etag=state.etag, last_modified=state.last_modified)
        changes: dict[str, Any] = {}
        if response.permanent_url and response.permanent_url != url:
            changes["url"] = response.permanent_url
        if response.not_modified:
            return Fetched(not_modified=True, status=304, url=response.url, headers=response.headers,
                           state_changes=changes)
        changes["etag"] = response.headers.get("etag")
        changes["last_modified"] = response.headers.get("last-modified")
        digest = hashlib.sha256(response.body).hexdigest()[:20]
        changes["content_hash"] = digest
        if state.content_hash == digest:
            # Some servers send new validators for identical content: nothing to parse.
            return Fetched(not_modified=True, status=200, url=response.url, headers=response.headers,
                           state_changes=changes)
        return Fetched(status=200, url=response.url, headers=response.headers, body=response.body,
                       state_changes=changes)

    def parse(self, source: Source, fetched: Fetched, now: datetime) -> Parsed:
        feed = parse_feed(fetched.body, fetched.headers, fetched.url, source, now)
        return Parsed(items=feed.items, warnings=feed.warnings)
