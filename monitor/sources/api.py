"""What the JSON-API collectors (Hansard, Mastodon, Bluesky) share.

- :func:`get_json`: one GET through the shared :class:`~monitor.sources.http.HttpClient`,
  decoded as JSON, every failure one readable line naming the service;
- :func:`link_params`: the query parameters of each ``rel`` in an HTTP ``Link`` header
  (Mastodon pages with them);
- :class:`HostGuard`: after a rate limit (429) or refused credentials from one host,
  the cycle's other sources on that host are not tried until the wait is over, so
  one limit does not become a burst of refused requests;
- :func:`items_from`: records -> items, each once, the skipped ones counted by reason.

Pure apart from :func:`get_json`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

from monitor.errors import CollectorError, FetchError, ParseError
from monitor.sources.base import Parsed
from monitor.sources.http import JSON_ACCEPT, HttpClient, Response
from monitor.sources.normalise import clean_text
from monitor.types import Item, Source

log = logging.getLogger(__name__)

_LINK_PART = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r"""rel\s*=\s*"?([^";,]+)"?""", re.IGNORECASE)


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: API answers are untrusted."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def link_params(header: str | None) -> dict[str, dict[str, str]]:
    """``{"next": {"max_id": "..."}, "prev": {"min_id": "..."}}`` from a ``Link`` header.

    Only the parameters are returned, never the URLs: a collector builds its next
    request on the host it was configured with, whatever a header says.
    """
    found: dict[str, dict[str, str]] = {}
    for match in _LINK_PART.finditer(header or ""):
        url, attributes = match.groups()
        rel = _REL.search(attributes)
        if not rel:
            continue
        try:
            query = urlsplit(url.strip()).query
        except ValueError:
            continue
        params = dict(parse_qsl(query, keep_blank_values=True))
        for name in rel.group(1).split():
            found.setdefault(name.lower(), params)
    return found


def _error_fields(body: bytes) -> dict[str, Any]:
    """The JSON object of an error answer, or {}."""
    try:
        return as_dict(json.loads(body.decode("utf-8", "replace")))
    except ValueError:
        return {}


def error_detail(body: bytes) -> str:
    """An API's own explanation of an error, from a JSON body such as
    ``{"error": "ExpiredToken", "message": "Token has expired"}``; "" if none."""
    data = _error_fields(body)
    parts = [clean_text(str(data[key])) for key in ("error", "message", "error_description")
             if isinstance(data.get(key), (str, int)) and str(data.get(key)).strip()]
    return ": ".join(dict.fromkeys(parts))[:200]


def error_code(error: CollectorError) -> str:
    """The ``error`` field of an API's JSON error answer (``ExpiredToken`` ...), or ""."""
    return str(_error_fields(getattr(error, "body", b"") or b"").get("error") or "")


def describe_failure(error: FetchError, service: str, what: str) -> CollectorError:
    """A failed request as one line naming the service, the request and the reason:
    ``Mastodon rate limit (HTTP 429) for #OnlineSafety on mastodon.social; retry after 120 s``."""
    status = error.status
    if status is None:
        message = f"{service} could not be reached for {what}: {error}"
    elif status == 429:
        message = f"{service} rate limit (HTTP 429) for {what}"
    else:
        message = f"{service} answered HTTP {status} for {what}"
    detail = error_detail(getattr(error, "body", b"") or b"") if status is not None else ""
    if detail:
        message += f" ({detail})"
    if error.retry_after is not None:
        message += f"; retry after {error.retry_after:g} s"
    return FetchError(message, retry_after=error.retry_after, status=status, body=error.body)


async def get_json(client: HttpClient, url: str, *, service: str, what: str,
                   params: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> tuple[Any, Response]:
    """GET ``url`` and decode its JSON body. Raises :class:`CollectorError` (one line,
    naming ``service`` and ``what``) for HTTP errors and answers that are not JSON."""
    try:
        response = await client.get(url, params=params, extra_headers={"Accept": JSON_ACCEPT, **(headers or {})})
    except FetchError as error:
        raise describe_failure(error, service, what) from None
    return decode_json(response.body, service=service, what=what, content_type=response.headers.get(
        "content-type", "")), response


def decode_json(body: bytes, *, service: str, what: str, content_type: str = "") -> Any:
    """Decoded JSON, or a :class:`ParseError` that says what came instead."""
    try:
        return json.loads(body)
    except ValueError:
        head = body[:200].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")) or "html" in content_type.lower():
            raise ParseError(f"{service} answered {what} with an HTML page, not JSON") from None
        if not body.strip():
            raise ParseError(f"{service} answered {what} with an empty body, not JSON") from None
        raise ParseError(f"{service} answered {what} with something that is not JSON") from None


@dataclass
class HostGuard:
    """Remembers, for one collection cycle, hosts that answered 429 (for their
    Retry-After, at least a minute) or refused credentials (for the cycle)."""

    service: str

    def __post_init__(self) -> None:
        self._blocked: dict[str, tuple[float, CollectorError]] = {}

    def check(self, host: str) -> None:
        """Raise a "not tried" error if ``host`` is blocked."""
        blocked = self._blocked.get(host)
        if blocked is None:
            return
        until, error = blocked
        left = until - time.monotonic()
        if left <= 0 and error.status != 401:
            del self._blocked[host]
            return
        retry = max(left, error.retry_after or 0.0) if error.retry_after is not None else None
        raise CollectorError(f"not tried: {error}, a moment ago for another {self.service} source",
                             retry_after=retry, status=error.status)

    def note(self, host: str, error: CollectorError) -> None:
        """Block ``host`` after a rate limit or refused credentials."""
        if error.status in (429, 401):
            wait = error.retry_after if error.retry_after is not None else 60.0
            self._blocked[host] = (time.monotonic() + wait, error)


def rate_limit_exhausted(headers: Mapping[str, str]) -> bool:
    """True when the server says no requests are left in its window
    (``X-RateLimit-Remaining`` / ``RateLimit-Remaining`` of 0): stop paging, politely."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("x-ratelimit-remaining", "ratelimit-remaining"):
        value = (lowered.get(name) or "").strip()
        if value:
            try:
                return float(value) <= 0
            except ValueError:
                return False
    return False


def items_from(records: Iterable[Any], source: Source, *, to_item: Callable[[dict[str, Any]], Item | None],
               skip: Callable[[dict[str, Any]], str | None] = lambda record: None, noun: str = "post",
               unreadable: str = "no id or no text",
               describe: Callable[[dict[str, Any]], str] = lambda record: "") -> Parsed:
    """Items from an API's records, each once (the same post twice in a poll is one item).

    ``skip`` names why a record is left out on purpose (``"marked sensitive (...)"``):
    those are counted and logged in one line per reason. A record that is not an
    object, or that ``to_item`` cannot read, is a warning naming it (``describe``).
    """
    items: list[Item] = []
    warnings: list[str] = []
    seen: set[str] = set()
    skipped: Counter[str] = Counter()
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            warnings.append(f"{noun} {number}: skipped: not an object")
            continue
        reason = skip(record)
        if reason:
            skipped[reason] += 1
            continue
        item = to_item(record)
        if item is None:
            where = describe(record)
            warnings.append(f"{noun} {number}: skipped: {unreadable}" + (f" ({where})" if where else ""))
            continue
        if item.id not in seen:
            seen.add(item.id)
            items.append(item)
    for reason, count in skipped.items():
        log.info("%s: skipped %d %s(s) %s", source.name, count, noun, reason)
    return Parsed(items=items, warnings=warnings)
