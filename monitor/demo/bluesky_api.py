"""A fake Bluesky server (PDS + AppView) on 127.0.0.1, speaking the XRPC wire format.

- ``POST /xrpc/com.atproto.server.createSession`` with ``{"identifier", "password"}``
  checks them against the one account it knows and answers ``accessJwt`` /
  ``refreshJwt`` (JWT-shaped, with an ``exp``); a wrong password gets Bluesky's 401
  ``AuthenticationRequired``.
- ``POST /xrpc/com.atproto.server.refreshSession`` with the refresh token as bearer
  answers a new pair and revokes the old one.
- ``GET /xrpc/app.bsky.feed.searchPosts`` (``q``, ``sort``, ``since``, ``until``,
  ``limit``, ``cursor``) needs a valid access token: none gets 401 ``AuthMissing``, an
  expired one (:meth:`FakeBlueskyAPI.expire_tokens`) 400 ``ExpiredToken``, as Bluesky
  answers. Results come from the postViews added with :meth:`add_post`, newest
  first by sort time (the earlier of ``createdAt`` and ``indexedAt``); every word of
  ``q`` (or "quoted phrase") must be in the text; ``cursor`` is an offset, absent on
  the last page. ``RateLimit-*`` headers are sent as Bluesky does.

Scripted replies (recorded bodies, 429s, 503s) come first; see ``fake_api``. A post's
page on the "web app" (``/profile/<did>/post/<rkey>``) opens for the demo.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from typing import Any, Callable

from monitor.demo.fake_api import ScriptedAPI, json_reply, page_html, query_params
from monitor.demo.server import LocalServer, Reply, Request
from monitor.types import from_iso

CREATE = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
_TERMS = re.compile(r'"([^"]+)"|(\S+)')
NOTICE = "Invented demo post written for the monitor project; not a real Bluesky post."


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _sort_time(post: dict[str, Any]) -> float:
    record = post.get("record") or {}
    times = []
    for value in (record.get("createdAt"), post.get("indexedAt")):
        try:
            moment = from_iso(value)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            times.append(moment.timestamp())
    return min(times) if times else 0.0


def _stamp(value: str | None) -> float | None:
    moment = from_iso(value) if value else None
    return moment.timestamp() if moment else None


class FakeBlueskyAPI(ScriptedAPI):
    """``with LocalServer() as server: api = FakeBlueskyAPI(server); api.add_post({...})``."""

    RATE_LIMIT = 3000

    def __init__(self, server: LocalServer, *, handle: str = "monitor-tests.test",
                 app_password: str = "abcd-efgh-ijkl-mnop", did: str = "did:plc:monitortestsinvented0001",
                 access_lifetime: float = 7200.0, clock: Callable[[], float] = time.time):
        super().__init__(server)
        self.handle, self.app_password, self.did = handle, app_password, did
        self.access_lifetime = access_lifetime
        self.clock = clock
        self.posts: list[dict[str, Any]] = []
        self.access: set[str] = set()  # valid access tokens
        self.expired: set[str] = set()
        self.refresh: set[str] = set()
        self.logins = 0
        self.refreshes = 0
        self.requests_served = 0
        self._serial = itertools.count(1)
        server.route(CREATE, self._create)
        server.route(REFRESH, self._refresh)
        server.route(SEARCH, self._search)
        server.route_prefix("/profile/", self._post_page)

    def add_post(self, post: dict[str, Any]) -> None:
        """Add a postView (``uri``, ``author``, ``record``, ``indexedAt`` ...)."""
        self.posts.append(dict(post))

    def expire_tokens(self) -> None:
        """Every access token handed out so far expires (searches get 400 ExpiredToken)."""
        self.expired |= self.access
        self.access.clear()

    def searches(self) -> list[dict[str, str]]:
        return [query_params(r) for r in self.calls(SEARCH)]

    def _jwt(self, scope: str, lifetime: float) -> str:
        now = int(self.clock())
        payload = {"scope": scope, "sub": self.did, "iat": now, "exp": now + int(lifetime), "jti": next(self._serial)}
        return f"{_b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{_b64(payload)}.invented-signature"

    def _session(self) -> Reply:
        access = self._jwt("com.atproto.appPass", self.access_lifetime)
        refresh = self._jwt("com.atproto.refresh", 90 * 86400)
        self.access.add(access)
        self.refresh.add(refresh)
        return json_reply({"accessJwt": access, "refreshJwt": refresh, "handle": self.handle, "did": self.did,
                           "active": True}, headers=self._limits())

    def _limits(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.RATE_LIMIT), "RateLimit-Remaining": str(max(0, self.RATE_LIMIT -
                                                                                       self.requests_served)),
                "RateLimit-Reset": str(int(self.clock()) + 300), "RateLimit-Policy": f"{self.RATE_LIMIT};w=300"}

    def _create(self, request: Request) -> Reply:
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_reply({"error": "InvalidRequest", "message": "Invalid JSON"}, 400)
        identifier = str(body.get("identifier") or "").casefold()
        if request.method != "POST" or identifier not in (self.handle.casefold(), self.did) \
                or body.get("password") != self.app_password:
            return json_reply({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401)
        self.logins += 1
        return self._session()

    def _refresh(self, request: Request) -> Reply:
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if request.method != "POST" or token not in self.refresh:
            return json_reply({"error": "ExpiredToken", "message": "Token has been revoked"}, 400)
        self.refresh.discard(token)
        self.refreshes += 1
        return self._session()

    def _search(self, request: Request) -> Reply:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token:
            return json_reply({"error": "AuthMissing", "message": "Authentication Required"}, 401)
        if token in self.expired:
            return json_reply({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        if token not in self.access:
            return json_reply({"error": "InvalidToken", "message": "Token could not be verified"}, 400)
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        self.requests_served += 1
        params = query_params(request)
        wanted = [phrase or word for phrase, word in _TERMS.findall(params.get("q", "").casefold())]
        if not wanted:
            return json_reply({"error": "BadQueryString", "message": "Error: q is required"}, 400)
        try:
            limit = max(1, min(100, int(params.get("limit", "25"))))
            offset = int(params.get("cursor") or 0)
        except ValueError:
            return json_reply({"error": "InvalidRequest", "message": "Invalid limit or cursor"}, 400)
        try:
            since, until = (_stamp(params.get(name)) for name in ("since", "until"))
        except ValueError:
            return json_reply({"error": "InvalidRequest", "message": "Invalid since or until"}, 400)
        found = []
        for post in self.posts:
            text = str((post.get("record") or {}).get("text") or "").casefold()
            at = _sort_time(post)
            if all(part in text for part in wanted) and (since is None or at >= since) \
                    and (until is None or at < until):
                found.append(post)
        found.sort(key=_sort_time, reverse=True)
        page = found[offset:offset + limit]
        body: dict[str, Any] = {"posts": page}
        if offset + limit < len(found):
            body["cursor"] = str(offset + limit)
        return json_reply(body, headers=self._limits())

    def _post_page(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if len(parts) == 4 and parts[2] == "post":
            uri = f"at://{parts[1]}/app.bsky.feed.post/{parts[3]}"
            for post in self.posts:
                if post.get("uri") == uri:
                    handle = (post.get("author") or {}).get("handle", "someone")
                    return page_html(f"@{handle}", [str((post.get("record") or {}).get("text") or "")], NOTICE)
        return Reply(404, {"Content-Type": "text/plain"}, b"not found")
