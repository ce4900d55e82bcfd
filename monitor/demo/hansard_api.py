"""A fake Hansard API on 127.0.0.1, speaking the wire format of hansard-api.parliament.uk.

``GET /search/contributions/Spoken.json`` with ``queryParameters.searchTerm``,
``startDate``, ``endDate``, ``take`` and ``skip`` answers from the contributions added
with :meth:`FakeHansardAPI.add` (in Hansard's own result shape), as the real one does:
results newest sitting first, ``TotalResultCount`` counting them all and
``SpokenResultCount`` 0 (the real endpoint's quirk). Search terms match the
contribution's text: every word, and every "quoted phrase", case-insensitively.

Scripted replies (recorded bodies, 429s, 503s) come first; see ``fake_api``. With
``[hansard] web_url`` pointed at the same server, each debate link opens a small page.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from monitor.demo.fake_api import ScriptedAPI, json_reply, page_html, query_params
from monitor.demo.server import LocalServer, Reply, Request
from monitor.sources.normalise import html_to_text

SEARCH_PATH = "/search/contributions/Spoken.json"
_TERMS = re.compile(r'"([^"]+)"|(\S+)')
NOTICE = "Invented demo contribution written for the monitor project; not a real Hansard record."


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


class FakeHansardAPI(ScriptedAPI):
    """``with LocalServer() as server: api = FakeHansardAPI(server); api.add({...})``."""

    def __init__(self, server: LocalServer):
        super().__init__(server)
        self.contributions: list[dict[str, Any]] = []
        server.route(SEARCH_PATH, self._search)
        server.route_prefix("/", self._page)

    def add(self, contribution: dict[str, Any]) -> None:
        """Add a contribution in Hansard's result shape (``ContributionExtId``, ``SittingDate`` ...)."""
        self.contributions.append(dict(contribution))

    def searches(self) -> list[dict[str, str]]:
        """The query parameters of every search received, in order."""
        return [query_params(r) for r in self.calls(SEARCH_PATH)]

    def _matches(self, contribution: dict[str, Any], term: str) -> bool:
        text = html_to_text(str(contribution.get("ContributionTextFull") or "")).casefold()
        wanted = [phrase or word for phrase, word in _TERMS.findall(term.casefold())]
        return bool(wanted) and all(part in text for part in wanted)

    def _search(self, request: Request) -> Reply:
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        params = query_params(request)
        term = params.get("queryParameters.searchTerm", "")
        start, end = _day(params.get("queryParameters.startDate")), _day(params.get("queryParameters.endDate"))
        try:
            take = max(1, min(100, int(params.get("queryParameters.take", "10"))))
            skip = max(0, int(params.get("queryParameters.skip", "0")))
        except ValueError:
            return json_reply({"message": "The request is invalid."}, 400)
        found = []
        for contribution in self.contributions:
            sat = _day(contribution.get("SittingDate"))
            if sat is None or (start and sat < start) or (end and sat > end):
                continue
            if self._matches(contribution, term):
                found.append(contribution)
        found.sort(key=lambda c: (c.get("SittingDate") or "", -(c.get("DebateSectionOrder") or 0),
                                  -(c.get("OrderInDebateSection") or 0)), reverse=True)
        return json_reply({
            "SearchTerms": [term], "SpokenResultCount": 0, "WrittenResultCount": 0, "CorrectionsResultCount": 0,
            "DivisionsResultCount": 0, "Results": found[skip:skip + take], "TotalResultCount": len(found),
        })

    def _page(self, request: Request) -> Reply:
        """``/<House>/<date>/debates/<DebateSectionExtId>/<slug>``: the debate's contributions."""
        parts = request.path.strip("/").split("/")
        if len(parts) >= 4 and parts[2] == "debates":
            debate = [c for c in self.contributions if str(c.get("DebateSectionExtId", "")).upper() == parts[3].upper()]
            if debate:
                debate.sort(key=lambda c: c.get("OrderInDebateSection") or 0)
                lines = [f"{c.get('AttributedTo')}: {html_to_text(str(c.get('ContributionTextFull') or ''))}"
                         for c in debate]
                return page_html(str(debate[0].get("DebateSection") or "Debate"), lines, NOTICE)
        return Reply(404, {"Content-Type": "text/plain"}, b"not found")
