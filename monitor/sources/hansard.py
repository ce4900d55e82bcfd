"""UK Parliament: spoken contributions in Hansard matching a search -> :class:`Item` objects.

The Hansard API's contribution search (``/search/contributions/Spoken.json``, public,
no key) answers ``{"Results": [...], "TotalResultCount": N, ...}`` a page at a time
(``queryParameters.take`` / ``skip``). How it is used, and why:

- **Paging** counts with ``TotalResultCount``: on this endpoint ``SpokenResultCount``
  is 0 even when results come back. Pages are read until ``skip`` reaches the total
  (or a page comes back empty), at most :data:`MAX_PAGES` of :data:`PAGE`.
- **Incremental by sitting date.** There is no cursor; a search is a date range. The
  cursor is the latest sitting date seen; the next poll searches from
  ``overlap_days`` before it (Hansard publishes some debates, committees especially,
  days after they sat) up to tomorrow. The first poll reads ``lookback_days`` back.
  What the overlap reads again is recognised and not stored twice.
- **One contribution, one item**, whatever searches find it: its id comes from the
  ``ContributionExtId``. Its link is the debate on hansard.parliament.uk, anchored at
  the contribution (the form Hansard's own pages use).
- **A failure part-way** (a 429 or 5xx on page three) keeps what was read and leaves
  the cursor where it was, so the next poll reads the same window again in full.

Members' names are public record and stored as such (``author``); nothing here is
hashed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable
from urllib.parse import quote, urlsplit

from monitor.config import HansardConfig
from monitor.errors import CollectorError, ParseError
from monitor.sources.api import HostGuard, get_json, items_from
from monitor.sources.base import Fetched, Parsed
from monitor.sources.http import HttpClient
from monitor.sources.normalise import clean_text, html_to_text, normalise_url, safe_html
from monitor.types import FetchState, Item, Source

log = logging.getLogger(__name__)

SEARCH_PATH = "/search/contributions/Spoken.json"
PAGE = 100
MAX_PAGES = 20  # 2,000 contributions in one poll's window: more than Parliament says in weeks on one topic
HOUSES = {"commons": "Commons", "lords": "Lords"}
# Party labels Hansard puts in brackets after a member's name (Commons and Lords).
PARTIES = {p.casefold() for p in (
    "Lab", "Lab/Co-op", "Lab Co-op", "Con", "LD", "SNP", "PC", "DUP", "SDLP", "UUP", "SF", "Green", "Green Party",
    "Ind", "Reform", "Reform UK", "RUK", "Alliance", "APNI", "TUV", "UKIP", "CB", "Bp", "Non-Afl", "Non-affiliated",
    "Crossbench", "Conservative", "Labour", "Liberal Democrat", "Plaid Cymru", "Independent")}
# Hansard gives a sitting's date, not the time of a speech: items are dated at noon UTC,
# inside the sitting day whatever the digest's day boundary.
SITTING_TIME = time(12, 0)
_PARTY = re.compile(r"\(([^()]{1,24})\)\s*$")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_EXT_ID = re.compile(r"[0-9A-Fa-f-]{8,64}")


# --- the search window (pure) ---------------------------------------------------------------


def sitting_date(value: Any) -> date | None:
    """``2026-06-30`` from Hansard's ``SittingDate`` (``2026-06-30T00:00:00``, no zone)."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def search_window(cursor: str | None, today: date, settings: HansardConfig) -> tuple[date, date]:
    """(startDate, endDate) of the next poll, both inclusive: from ``overlap_days``
    before the last sitting seen (``lookback_days`` back the first time) to tomorrow,
    so a sitting dated today in London is never cut off by UTC."""
    last = sitting_date(cursor)
    start = last - timedelta(days=settings.overlap_days) if last else today - timedelta(days=settings.lookback_days)
    return min(start, today), today + timedelta(days=1)


# --- contributions -> items (pure) ----------------------------------------------------------


def title_slug(title: str) -> str:
    """The last part of a Hansard debate URL: the title's letters and digits
    (``National Security (State Threats) Bill`` -> ``NationalSecurityStateThreatsBill``)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]", "", ascii_title) or "Debate"


def contribution_url(web_url: str, house: str, sitting: date, debate_id: str, title: str,
                     contribution_id: str) -> str | None:
    """``https://hansard.parliament.uk/Lords/2026-06-30/debates/<debate>/<TitleSlug>#contribution-<id>``."""
    base = normalise_url(web_url.rstrip("/") + "/")
    if base is None or not _EXT_ID.fullmatch(debate_id) or not _EXT_ID.fullmatch(contribution_id):
        return None
    path = f"{quote(house, safe='')}/{sitting.isoformat()}/debates/{debate_id}/{title_slug(title)}"
    return f"{base.rstrip('/')}/{path}#contribution-{contribution_id}"


def split_attribution(attributed_to: str, member_name: str) -> tuple[str, str | None]:
    """(speaker, party) from ``AttributedTo``: ``Baroness Doocey (LD)`` -> (``Baroness
    Doocey``, ``LD``); ``Sarah Ashby (Northshire East) (Lab)`` -> party ``Lab``. The
    party is the last bracket when it names one: a minister's office with their name
    in brackets, or a constituency alone, has no party."""
    attributed = clean_text(attributed_to)
    name = clean_text(member_name) or attributed
    match = _PARTY.search(attributed)
    if match is None:
        return name, None
    party = match.group(1).strip()
    if party.casefold() in PARTIES or party.casefold().startswith("ind "):
        return name, party
    return name, None


@dataclass(frozen=True)
class ContributionOptions:
    web_url: str = "https://hansard.parliament.uk"


def contribution_to_item(result: dict[str, Any], source: Source, options: ContributionOptions) -> Item | None:
    """One search result as an Item, or None when it has no id, text or sitting date."""
    ext_id = result.get("ContributionExtId")
    when = sitting_date(result.get("SittingDate"))
    if not isinstance(ext_id, str) or not _EXT_ID.fullmatch(ext_id.strip()) or when is None:
        return None
    ext_id = ext_id.strip().upper()
    full = result.get("ContributionTextFull")
    text = html_to_text(full if isinstance(full, str) and full.strip() else str(result.get("ContributionText") or ""))
    if not text:
        return None
    house_raw = clean_text(str(result.get("House") or ""))
    house = HOUSES.get(house_raw.lower(), house_raw)
    debate = clean_text(str(result.get("DebateSection") or "")) or "(untitled debate)"
    debate_id = clean_text(str(result.get("DebateSectionExtId") or "")).upper()
    member = clean_text(str(result.get("MemberName") or ""))
    attributed = clean_text(str(result.get("AttributedTo") or "")) or member
    speaker, party = split_attribution(attributed, member)
    url = contribution_url(options.web_url, house, when, debate_id, debate, ext_id) if house in HOUSES.values() \
        else None
    who = (f"{speaker} ({party})" if party else speaker) or attributed or "Unattributed"
    extra = {
        "house": house or None,
        "member": speaker or None,
        "member_id": result.get("MemberId") if isinstance(result.get("MemberId"), int) else None,
        "party": party,
        "attributed_to": attributed or None,
        "debate": debate,
        "debate_id": debate_id or None,
        "section": clean_text(str(result.get("Section") or "")) or None,
        "sitting_date": when.isoformat(),
        "order": result.get("OrderInDebateSection") if isinstance(result.get("OrderInDebateSection"), int) else None,
    }
    return Item(
        id=f"hansard:{ext_id}",
        source_id=source.id,
        url=url,
        title=f"{who} \u2014 {debate}",
        text=text,
        summary_html=safe_html(text, plain=True),
        author=speaker or None,
        published_at=datetime.combine(when, SITTING_TIME, timezone.utc),
        extra={key: value for key, value in extra.items() if value is not None},
    )


def parse_contributions(results: list[Any], source: Source, options: ContributionOptions) -> Parsed:
    """Items from search results: one per contribution, malformed ones skipped with a warning."""

    def describe(result: dict[str, Any]) -> str:
        who = clean_text(str(result.get("AttributedTo") or "?"))[:80]
        debate = clean_text(str(result.get("DebateSection") or "?"))[:80]
        return f"{who!r} in {debate!r}"

    return items_from(results, source, to_item=lambda result: contribution_to_item(result, source, options),
                      noun="result", unreadable="no contribution id, sitting date or text", describe=describe)


# --- the collector ------------------------------------------------------------------------


@dataclass
class SearchResults:
    """What one poll read: raw results, and notes for the log."""

    results: list[Any] = field(default_factory=list)
    requests: int = 0
    notes: list[str] = field(default_factory=list)


class HansardCollector:
    """Collects ``hansard`` sources (see the module docs)."""

    kinds: tuple[str, ...] = ("hansard",)

    def __init__(self, settings: HansardConfig, *, clock: Callable[[], datetime] | None = None):
        self.settings = settings
        self.options = ContributionOptions(settings.web_url)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.guard = HostGuard("Hansard")

    async def fetch(self, source: Source, state: FetchState, client: HttpClient) -> Fetched:
        api = self.settings.api_url.rstrip("/")
        host = urlsplit(api).netloc
        self.guard.check(host)
        query = source.options["query"]
        start, end = search_window(state.cursor, self.clock().date(), self.settings)
        read = SearchResults()
        failure: CollectorError | None = None
        skip = 0
        complete = False
        try:
            for _page in range(MAX_PAGES):
                params = {"queryParameters.searchTerm": query, "queryParameters.startDate": start.isoformat(),
                          "queryParameters.endDate": end.isoformat(), "queryParameters.take": PAGE,
                          "queryParameters.skip": skip}
                what = f"the search {query!r}" + (f" (results from {skip + 1})" if skip else "")
                data, _response = await get_json(client, api + SEARCH_PATH, service="Hansard", what=what,
                                                 params=params)
                read.requests += 1
                results, total = _page_of(data, what)
                read.results += results
                skip += PAGE
                if not results or skip >= total:
                    complete = True
                    break
            else:
                read.notes.append(f"more than {MAX_PAGES * PAGE} contributions from {start} to {end}; read the"
                                  f" first {MAX_PAGES * PAGE} (narrow the search)")
                complete = True
        except CollectorError as error:
            self.guard.note(host, error)
            if not read.results:
                raise
            failure = error
        changes: dict[str, Any] = {}
        if complete:
            seen = [sitting_date(r.get("SittingDate")) for r in read.results if isinstance(r, dict)]
            dates = [d for d in [*seen, sitting_date(state.cursor)] if d is not None]
            latest = max(dates, default=None)
            if latest is not None and latest.isoformat() != state.cursor:
                changes["cursor"] = latest.isoformat()
        log.debug("%s: %d contribution(s) in %d request(s), %s to %s", source.name, len(read.results),
                  read.requests, start, end)
        return Fetched(status=200, url=source.url or "", payload=read, state_changes=changes, failure=failure)

    def parse(self, source: Source, fetched: Fetched, now: datetime) -> Parsed:
        read: SearchResults = fetched.payload
        parsed = parse_contributions(read.results, source, self.options)
        parsed.warnings.extend(read.notes)
        return parsed


def _page_of(data: Any, what: str) -> tuple[list[Any], int]:
    """(results, TotalResultCount) of one answer, or a ParseError."""
    if not isinstance(data, dict) or not isinstance(data.get("Results"), list):
        raise ParseError(f"Hansard answered {what} with something that is not a contribution search result")
    total = data.get("TotalResultCount")
    if isinstance(total, bool) or not isinstance(total, int):
        raise ParseError(f"Hansard answered {what} without a TotalResultCount")
    return data["Results"], total
