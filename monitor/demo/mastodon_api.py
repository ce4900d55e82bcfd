"""A fake Mastodon instance on 127.0.0.1: public hashtag timelines in Mastodon's wire format.

``GET /api/v1/timelines/tag/<tag>`` answers from the statuses added with
:meth:`FakeMastodonInstance.add_status` (Mastodon's status JSON), newest first, with
``limit`` (default 20, at most 40), ``max_id``, ``since_id`` and ``min_id`` as
Mastodon pages them (``min_id``: the statuses just newer than it), a ``Link`` header
with ``rel="next"`` (``max_id``) and ``rel="prev"`` (``min_id``) on every non-empty
page, and ``X-RateLimit-*`` headers. Ids are local: each instance numbers the statuses
it knows itself, as the real ones do, so one post added to two instances has two ids
and one ``uri``. A status page (``/@user/<id>``) opens for the demo.

Scripted replies (recorded bodies, 429s, 503s) come first; see ``fake_api``.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote

from monitor.demo.fake_api import ScriptedAPI, json_reply, page_html, query_params
from monitor.demo.server import LocalServer, Reply, Request
from monitor.sources.normalise import html_to_text
from monitor.types import from_iso

TAG_PREFIX = "/api/v1/timelines/tag/"
NOTICE = "Invented demo post written for the monitor project; not a real status."


class FakeMastodonInstance(ScriptedAPI):
    """``with LocalServer() as server: instance = FakeMastodonInstance(server); instance.add_status({...})``."""

    RATE_LIMIT = 300

    def __init__(self, server: LocalServer):
        super().__init__(server)
        self.statuses: dict[int, dict[str, Any]] = {}
        self._sequence = itertools.count(1)
        self.requests_served = 0
        server.route_prefix(TAG_PREFIX, self._timeline)
        server.route_prefix("/@", self._status_page)

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]

    def add_status(self, status: dict[str, Any]) -> str:
        """Add a status (Mastodon's JSON; its ``id`` is replaced by one local to this
        instance, derived from ``created_at`` as Mastodon's are). Returns the local id."""
        created = from_iso(status.get("created_at")) or datetime.now(timezone.utc)
        local = (int(created.timestamp() * 1000) << 16) + next(self._sequence)
        self.statuses[local] = dict(status, id=str(local))
        return str(local)

    def timeline(self, tag: str) -> list[dict[str, Any]]:
        """The tag's statuses, newest first."""
        wanted = tag.casefold()
        return [self.statuses[i] for i in sorted(self.statuses, reverse=True)
                if any(str(t.get("name", "")).casefold() == wanted for t in self.statuses[i].get("tags") or [])]

    def _timeline(self, request: Request) -> Reply:
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        self.requests_served += 1
        tag = unquote(request.path[len(TAG_PREFIX):]).strip("/")
        params = query_params(request)
        try:
            limit = max(1, min(40, int(params.get("limit", "20"))))
            max_id = int(params["max_id"]) if params.get("max_id") else None
            since_id = int(params["since_id"]) if params.get("since_id") else None
            min_id = int(params["min_id"]) if params.get("min_id") else None
        except ValueError:
            return json_reply({"error": "Invalid pagination parameter"}, 422)
        statuses = self.timeline(tag)
        if max_id is not None:
            statuses = [s for s in statuses if int(s["id"]) < max_id]
        if since_id is not None:
            statuses = [s for s in statuses if int(s["id"]) > since_id]
        if min_id is not None:  # the page just newer than min_id, still newest first
            statuses = list(reversed([s for s in reversed(statuses) if int(s["id"]) > min_id][:limit]))
        page = statuses[:limit]
        reset = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        headers = {"X-RateLimit-Limit": str(self.RATE_LIMIT),
                   "X-RateLimit-Remaining": str(max(0, self.RATE_LIMIT - self.requests_served)),
                   "X-RateLimit-Reset": reset}
        if page:
            base = f"{self.base_url}{TAG_PREFIX}{quote(tag)}"
            headers["Link"] = (f'<{base}?limit={limit}&max_id={page[-1]["id"]}>; rel="next", '
                               f'<{base}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"')
        return json_reply(page, headers=headers)

    def _status_page(self, request: Request) -> Reply:
        local = request.path.rstrip("/").rsplit("/", 1)[-1]
        status = self.statuses.get(int(local)) if local.isdigit() else None
        if status is None:
            return Reply(404, {"Content-Type": "text/plain"}, b"not found")
        account = status.get("account") or {}
        return page_html(f"@{account.get('acct', 'someone')}", [html_to_text(status.get("content") or "")], NOTICE)
