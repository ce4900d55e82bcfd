"""A small programmable HTTP server on 127.0.0.1, for the offline demo and the tests.

Routes map a path to a function returning a :class:`Reply`; replies can be static
bodies with real conditional-GET handling, or generators that trickle bytes slowly.
Every request is recorded (method, path, headers) so tests can assert what a client
actually sent. Standard library only: it must run wherever the package runs.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable, Mapping
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class Reply:
    """A response. ``body`` may be bytes or an iterable of chunks (sent as they come,
    each flushed, for slow-server tests); ``delay`` waits before the status line."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    delay: float = 0.0


Route = Callable[[Request], Reply]


def static(
    body: bytes,
    content_type: str = "application/rss+xml; charset=utf-8",
    *,
    etag: str | None = "auto",
    last_modified: float | None = None,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> Route:
    """Serve ``body`` with ETag/Last-Modified validators and 304 answers, as a real server does."""
    tag = f'"{hashlib.sha1(body).hexdigest()[:16]}"' if etag == "auto" else etag
    modified = email.utils.formatdate(last_modified, usegmt=True) if last_modified else None

    def route(request: Request) -> Reply:
        base = {"Content-Type": content_type, **(headers or {})}
        if tag:
            base["ETag"] = tag
        if modified:
            base["Last-Modified"] = modified
        inm = request.headers.get("if-none-match")
        ims = request.headers.get("if-modified-since")
        if (tag and inm == tag) or (not inm and modified and ims == modified):
            return Reply(304, {k: v for k, v in base.items() if k != "Content-Type"}, b"", delay)
        return Reply(200, base, body, delay)

    return route


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: object) -> None:  # keep test and demo output clean
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, parts.path, parts.query,
                          {k.lower(): v for k, v in self.headers.items()}, body)
        owner = self.server.owner
        owner.requests.append(request)
        route = owner.find(request)
        reply = route(request) if route else Reply(404, {"Content-Type": "text/plain"}, b"not found")
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if self.close_connection and "connection" not in {k.lower() for k in reply.headers}:
                # The client asked to close (prawcore does for token requests): say so, as real
                # servers do, so its connection pool does not reuse a socket being closed.
                self.send_header("Connection", "close")
            if isinstance(reply.body, (bytes, bytearray)):
                if "content-length" not in {k.lower() for k in reply.headers}:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
            else:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for chunk in reply.body:
                    self.wfile.write(chunk)
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = _handle
    do_POST = _handle
    do_HEAD = _handle
    do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a client opening 25 connections at
    # once would see SYNs dropped and retried a second later, which no real web
    # server (backlogs of 511 and more) does to it.
    request_queue_size = 128
    owner: "LocalServer"

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-reply (deadlines, size caps) are expected here; stay quiet."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class LocalServer:
    """``with LocalServer() as server: server.route("/feed.xml", static(b"..."))``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._server = _Server((host, port), _Handler)
        self._server.owner = self
        self.routes: dict[str, Route] = {}
        self.prefix_routes: list[tuple[str, Route]] = []
        self.requests: list[Request] = []
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-http", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, handler: Route) -> str:
        """Serve ``handler`` at exactly ``path``; returns the full URL."""
        self.routes[path] = handler
        return self.url(path)

    def route_prefix(self, prefix: str, handler: Route) -> None:
        self.prefix_routes.append((prefix, handler))

    def find(self, request: Request) -> Route | None:
        if request.path in self.routes:
            return self.routes[request.path]
        for prefix, handler in self.prefix_routes:
            if request.path.startswith(prefix):
                return handler
        return None

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> "LocalServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
