"""A fake Reddit API on 127.0.0.1 that speaks Reddit's wire format to the real praw.

``monitor demo`` serves our invented posts with it, and the tests point the real praw
at it (``[reddit] oauth_url`` and ``reddit_url``), both to play our own posts and to
replay responses recorded from the real Reddit API. Standard library only.

It has two layers, tried in this order for every request:

1. **Scripted replies** (:meth:`FakeRedditAPI.reply`, :meth:`replay_listing`,
   :meth:`load_cassette`, and :meth:`trickle`, an answer that never ends): a recorded response (status, headers, body as sent by
   Reddit) served for a request matched on method, path (trailing ``/`` ignored) and
   the parameters that choose *what* is listed: ``q``, ``before``, ``after``, ``id``.
   The others (``limit``, ``sort``, ``t``, ``syntax``, ``restrict_sr``, ``raw_json``)
   do not select a recording; tests read them from :attr:`requests` instead. A reply
   is used ``times`` times (None: for ever); several for one request play in order.
2. **A model of Reddit** holding posts (:meth:`add_post`): ``/r/<sub>/new`` with
   ``before``/``after``/``limit`` paging as Reddit does it (``before=`` a post that is
   no longer listed answers an empty listing), ``/r/<sub>/search`` (newest first),
   ``/api/info?id=`` (deleted and removed posts included, in Reddit's deleted shape),
   ``/comments/<id>`` (the post and its comments, :meth:`add_comment`), and a small
   HTML page at each post's permalink. Posts seen in replayed listings
   join the model, so ``/api/info`` knows them too.

The token endpoint checks the client id and secret (HTTP basic auth) and every API
request checks the bearer token, as Reddit does.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

from monitor.demo.server import LocalServer, Reply, Request

TOKEN_PATH = "/api/v1/access_token"
SELECTORS = ("q", "before", "after", "id")
DROP_HEADERS = {"content-length", "transfer-encoding", "connection", "set-cookie", "date"}
JSON = "application/json; charset=UTF-8"


@dataclass
class Recorded:
    """One HTTP response as Reddit sent it (body decoded, as cassettes store it)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def to_reply(self) -> Reply:
        headers: dict[str, str] = {}
        for name, value in self.headers:
            if name.lower() not in DROP_HEADERS:
                headers[name] = value
        body = self.body
        if any(k.lower() == "content-encoding" and "gzip" in v.lower() for k, v in headers.items()):
            body = gzip.compress(body)  # cassettes store bodies decoded; the wire had them gzipped
        return Reply(self.status, headers, body)


@dataclass
class Exchange:
    """A recorded request (method, path, query parameters) and its response."""

    method: str
    path: str
    params: dict[str, str]
    response: Recorded


def _headers(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Cassette headers as pairs: vcrpy stores lists of values, asyncpraw plain strings."""
    pairs = []
    for name, value in raw.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, str(one)))
    return pairs


def read_cassette(path: str | Path) -> list[Exchange]:
    """The exchanges of a vcrpy-style JSON cassette (praw, prawcore or asyncpraw)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    exchanges = []
    for interaction in data.get("interactions") or data.get("http_interactions") or []:
        request, response = interaction["request"], interaction["response"]
        parts = urlsplit(request.get("uri") or request.get("url"))
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = response.get("body") or {}
        text = body.get("string", "") if isinstance(body, dict) else str(body)
        status = response["status"]["code"] if isinstance(response.get("status"), dict) else int(response["status"])
        exchanges.append(Exchange(request["method"].upper(), parts.path, params,
                                  Recorded(status, _headers(response.get("headers") or {}),
                                           text.encode("utf-8"))))
    return exchanges


def _norm(path: str) -> str:
    return path.rstrip("/") or "/"


@dataclass
class _Script:
    method: str
    path: str
    params: dict[str, str] | None
    response: Recorded
    times: int | None
    trickle: tuple[float, float] | None = None  # (seconds between bytes, for how long) of a stuck reply


def listing(children: list[dict[str, Any]], *, after: str | None = None, before: str | None = None,
            kind: str = "t3") -> dict[str, Any]:
    """Reddit's Listing envelope around post ``data`` dicts."""
    return {"kind": "Listing", "data": {"after": after, "dist": len(children), "modhash": None,
                                        "geo_filter": None, "before": before,
                                        "children": [{"kind": kind, "data": c} for c in children]}}


def _id36(name: str) -> int:
    try:
        return int(name.split("_", 1)[-1], 36)
    except ValueError:
        return -1


class FakeRedditAPI:
    """``with LocalServer() as server: api = FakeRedditAPI(server); api.add_post({...})``.

    Point praw at ``api.base_url`` (both ``oauth_url`` and ``reddit_url``) and give it
    ``client_id`` / ``client_secret``.
    """

    def __init__(self, server: LocalServer, *, client_id: str = "fake-client-id",
                 client_secret: str = "fake-client-secret", token: Recorded | None = None):
        self.server = server
        self.client_id = client_id
        self.client_secret = client_secret
        self._token_reply = token or Recorded(200, [("Content-Type", JSON)], json.dumps(
            {"access_token": "fake-access-token", "token_type": "bearer", "expires_in": 86400,
             "scope": "*"}).encode())
        self.token = json.loads(self._token_reply.body or b"{}").get("access_token")
        self.posts: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, tuple[str, ...]] = {}
        self.comments: dict[str, dict[str, Any]] = {}  # t1 fullname -> data
        self.removed: dict[str, str] = {}  # fullname -> "deleted" | "moderator" | "author"
        self.scripts: list[_Script] = []
        self.api_requests = 0
        self._closed = threading.Event()  # ends trickling replies
        server.route(TOKEN_PATH, self._token)
        server.route_prefix("/", self._handle)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def requests(self) -> list[Request]:
        """Every request received, token requests included, in order."""
        return self.server.requests

    def api_calls(self, path: str | None = None) -> list[Request]:
        """The API requests (not token requests), optionally only those to ``path``."""
        return [r for r in self.server.requests if r.path != TOKEN_PATH
                and (path is None or _norm(r.path) == _norm(path))]

    # the model
    def add_post(self, data: dict[str, Any], *, search_terms: Iterable[str] | None = None) -> None:
        """Add (or replace) a post given as Reddit's t3 ``data``."""
        name = data.get("name") or f"t3_{data['id']}"
        self.posts[name] = dict(data, name=name)
        if search_terms is not None:
            self.terms[name] = tuple(t.casefold() for t in search_terms)

    def add_comment(self, post_fullname: str, data: dict[str, Any]) -> None:
        """Add a comment (Reddit's t1 ``data``) to a post; top-level unless its
        ``parent_id`` names another comment."""
        name = data.get("name") or f"t1_{data['id']}"
        self.comments[name] = dict(data, name=name, link_id=post_fullname,
                                   parent_id=data.get("parent_id") or post_fullname)

    def delete(self, fullname: str, how: str = "deleted") -> None:
        """Delete a post or comment upstream: ``deleted`` (by its author), ``moderator``
        (removed), or ``author`` (the author deleted their account; the text stays up)."""
        if fullname not in self.posts and fullname not in self.comments:
            raise KeyError(fullname)
        self.removed[fullname] = how

    def _public(self, fullname: str) -> dict[str, Any]:
        """A post or comment as Reddit shows it now, deletion applied."""
        if fullname in self.comments:
            comment = dict(self.comments[fullname])
            how = self.removed.get(fullname)
            if how in ("deleted", "moderator"):
                comment.update(body="[deleted]" if how == "deleted" else "[removed]", body_html=None,
                               author="[deleted]")
            elif how == "author":
                comment.update(author="[deleted]")
            return comment
        post = dict(self.posts[fullname])
        how = self.removed.get(fullname)
        if how == "deleted":
            post.update(author="[deleted]", selftext="[deleted]", selftext_html=None, title="[deleted by user]",
                        removed_by_category="deleted", author_fullname=None)
        elif how == "moderator":
            post.update(selftext="[removed]", selftext_html=None, removed_by_category="moderator")
        elif how == "author":
            post.update(author="[deleted]", author_fullname=None)
        return post

    def _listed(self, subreddit: str) -> list[dict[str, Any]]:
        """Visible posts of a subreddit (or all), newest first."""
        names = [n for n, p in self.posts.items()
                 if self.removed.get(n) in (None, "author")
                 and (subreddit.lower() == "all" or str(p.get("subreddit", "")).lower() == subreddit.lower())]
        names.sort(key=lambda n: (self.posts[n].get("created_utc") or 0, _id36(n)), reverse=True)
        return [self._public(n) for n in names]

    # scripted replies
    def reply(self, method: str, path: str, response: Recorded, *, params: dict[str, str] | None = None,
              times: int | None = 1) -> None:
        """Serve ``response`` for requests to ``path`` whose selecting parameters equal
        ``params`` (None: any parameters), ``times`` times (None: always)."""
        self.scripts.append(_Script(method.upper(), _norm(path), params, response, times))

    def trickle(self, path: str, *, params: dict[str, str] | None = None, times: int | None = None,
                every: float = 0.5, lasting: float = 20.0) -> None:
        """Answer requests to ``path`` (selected as by :meth:`reply`) as a stuck proxy
        does: status and headers at once, then a byte of whitespace every ``every``
        seconds for ``lasting`` seconds (or until :meth:`close`), then hang up. Every
        read arrives within praw's timeout, so only a total deadline ends the wait
        sooner (``lasting`` only keeps a test without one from hanging for ever)."""
        self.scripts.append(_Script("GET", _norm(path), params, Recorded(200), times, trickle=(every, lasting)))

    def close(self) -> None:
        """Let trickling replies end (the server's threads are daemons; this frees them sooner)."""
        self._closed.set()

    def _trickling(self, every: float, lasting: float) -> Iterable[bytes]:
        ends = time.monotonic() + lasting
        while time.monotonic() < ends and not self._closed.wait(every):
            yield b" "

    def replay_listing(self, path: str, body: bytes, *, params: dict[str, str] | None = None,
                       headers: Iterable[tuple[str, str]] = (), times: int | None = 1) -> None:
        """Serve a recorded listing body; its posts join the model (for ``/api/info``)."""
        recorded_headers = list(headers) or [("Content-Type", JSON)]
        self.reply("GET", path, Recorded(200, recorded_headers, body), params=params or {}, times=times)
        self._learn(body)

    def load_cassette(self, path: str | Path, *, times: int | None = 1) -> list[Exchange]:
        """Script every API exchange of a cassette (its token response becomes the token)."""
        exchanges = read_cassette(path)
        for exchange in exchanges:
            if _norm(exchange.path) == TOKEN_PATH:
                if exchange.response.status == 200:
                    self._token_reply = exchange.response
                    self.token = json.loads(exchange.response.body or b"{}").get("access_token")
                continue
            selecting = {k: v for k, v in exchange.params.items() if k in SELECTORS}
            self.reply(exchange.method, exchange.path, exchange.response, params=selecting, times=times)
            if exchange.response.status == 200:
                self._learn(exchange.response.body)
        return exchanges

    def _learn(self, body: bytes) -> None:
        try:
            data = json.loads(body)
        except ValueError:
            return
        for child in (data.get("data") or {}).get("children") or [] if isinstance(data, dict) else []:
            if child.get("kind") == "t3" and isinstance(child.get("data"), dict):
                self.posts.setdefault(child["data"]["name"], child["data"])

    def _scripted(self, request: Request) -> Reply | None:
        params = {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        selecting = {k: v for k, v in params.items() if k in SELECTORS}
        for script in self.scripts:
            if script.method != request.method or script.path != _norm(request.path):
                continue
            if script.params is not None and script.params != selecting:
                continue
            if script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    self.scripts.remove(script)
            if script.trickle is not None:
                return Reply(200, {"Content-Type": JSON}, self._trickling(*script.trickle))
            return script.response.to_reply()
        return None

    # HTTP
    def _token(self, request: Request) -> Reply:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.method != "POST" or request.headers.get("authorization") != expected:
            return _json(401, {"message": "Unauthorized", "error": 401})
        scripted = self._scripted(request)
        return scripted or self._token_reply.to_reply()

    def _handle(self, request: Request) -> Reply:
        path = _norm(request.path)
        parts = path.strip("/").split("/")
        if request.method == "GET" and len(parts) >= 4 and parts[0] == "r" and parts[2] == "comments":
            return self._permalink_page(parts[3])
        if request.headers.get("authorization") != f"bearer {self.token}":
            return _json(401, {"message": "Unauthorized", "error": 401},
                         {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        self.api_requests += 1
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        params = {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        if request.method == "GET" and len(parts) == 3 and parts[0] == "r" and parts[2] == "new":
            return self._page(self._listed(parts[1]), params)
        if request.method == "GET" and len(parts) == 3 and parts[0] == "r" and parts[2] == "search":
            return self._search(parts[1], params)
        if request.method == "GET" and path == "/api/info":
            wanted = [n for n in params.get("id", "").split(",") if n in self.posts or n in self.comments]
            body = listing([])
            body["data"]["children"] = [{"kind": n[:2], "data": self._public(n)} for n in wanted]
            body["data"]["dist"] = len(wanted)
            return _json(200, body, _ratelimit(self.api_requests))
        if request.method == "GET" and len(parts) == 2 and parts[0] == "comments":
            return self._comments(f"t3_{parts[1]}", params)
        return _json(404, {"message": "Not Found", "error": 404})

    def _page(self, posts: list[dict[str, Any]], params: dict[str, str]) -> Reply:
        """One page of a newest-first listing, with Reddit's ``before``/``after`` semantics."""
        try:
            limit = max(1, min(100, int(params.get("limit", "25"))))
        except ValueError:
            limit = 25
        names = [p["name"] for p in posts]
        if params.get("before"):
            if params["before"] not in names:
                return _json(200, listing([]), _ratelimit(self.api_requests))
            end = names.index(params["before"])
            start = max(0, end - limit)
        elif params.get("after"):
            if params["after"] not in names:
                return _json(200, listing([]), _ratelimit(self.api_requests))
            start = names.index(params["after"]) + 1
            end = start + limit
        else:
            start, end = 0, limit
        page = posts[start:end]
        # As Reddit does: a before= page names no "after" (see the recorded before= poll).
        after = page[-1]["name"] if page and end < len(posts) and not params.get("before") else None
        before = page[0]["name"] if page and start > 0 else None
        return _json(200, listing(page, after=after, before=before), _ratelimit(self.api_requests))

    def _search(self, subreddit: str, params: dict[str, str]) -> Reply:
        query = params.get("q", "").casefold().strip()
        restrict = params.get("restrict_sr", "").lower() in ("1", "true", "on")
        pool = self._listed(subreddit if restrict else "all")
        words = query.split()

        def matches(post: dict[str, Any]) -> bool:
            if post["name"] in self.terms:
                return query in self.terms[post["name"]]
            text = f"{post.get('title', '')} {post.get('selftext', '')}".casefold()
            return bool(words) and all(word in text for word in words)

        return self._page([p for p in pool if matches(p)], params)

    def _comments(self, post: str, params: dict[str, str]) -> Reply:
        """``/comments/<id>``: [the post's listing, its comments' listing], Reddit's shape."""
        if post not in self.posts or self.removed.get(post) in ("deleted", "moderator"):
            return _json(404, {"message": "Not Found", "error": 404})
        try:
            limit = max(1, int(params.get("limit", "200")))
            depth = int(params.get("depth", "10"))
        except ValueError:
            limit, depth = 200, 10
        names = [n for n, c in self.comments.items() if c["link_id"] == post and (depth > 1 or c["parent_id"] == post)]
        if params.get("sort") == "top":
            names.sort(key=lambda n: self.comments[n].get("score") or 0, reverse=True)
        elif params.get("sort") == "new":
            names.sort(key=lambda n: self.comments[n].get("created_utc") or 0, reverse=True)
        comments = [dict(self._public(n), replies="") for n in names[:limit]]
        return _json(200, [listing([self._public(post)]), listing(comments, kind="t1")], _ratelimit(self.api_requests))

    def _permalink_page(self, post_id: str) -> Reply:
        post = self.posts.get(f"t3_{post_id}")
        if post is None or self.removed.get(f"t3_{post_id}") in ("deleted", "moderator"):
            return Reply(404, {"Content-Type": "text/plain"}, b"not found")
        body = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(post.get('title', ''))}"
                f"</title><p><em>r/{html.escape(str(post.get('subreddit', '')))} &mdash; invented demo post,"
                f" not real</em></p><h1>{html.escape(post.get('title', ''))}</h1>"
                f"<p>{html.escape(post.get('selftext', '')).replace(chr(10), '<br>')}</p></html>")
        return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, body.encode("utf-8"))


def _ratelimit(used: int) -> dict[str, str]:
    """Reddit's rate-limit headers, with room to spare (praw sleeps when it runs short)."""
    return {"x-ratelimit-remaining": f"{max(0, 1000 - used)}.0", "x-ratelimit-used": str(used),
            "x-ratelimit-reset": "300"}


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"Content-Type": JSON, **(headers or {})},
                 json.dumps(data, ensure_ascii=False).encode("utf-8"))
