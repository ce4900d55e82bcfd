"""What the fake JSON APIs (Hansard, Mastodon, Bluesky) share: scripted replies.

Each fake models its service well enough for the real collector to page through it,
and, tried first, serves **scripted replies**: a recorded response (status, headers,
body as the service sent it) or one we wrote (a 429 with Retry-After, a 503, an
empty page), for requests matched on method, path and some query parameters, a
number of ``times`` (None: for ever). Every request is kept in the server's log.
Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs

from monitor.demo.server import LocalServer, Reply, Request

JSON = "application/json; charset=utf-8"
# Hop-by-hop and stale headers a replay must not repeat. Recorded bodies are stored
# decoded, so their Content-Encoding and Content-Length no longer describe them.
DROP_HEADERS = {"content-length", "transfer-encoding", "connection", "set-cookie", "date", "content-encoding",
                "keep-alive", "alt-svc", "strict-transport-security"}


def json_reply(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON answer, compact as the real services send it."""
    return Reply(status, {"Content-Type": JSON, **(headers or {})},
                 json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def recorded_reply(status: int, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes | str) -> Reply:
    """A recorded response as a Reply: hop-by-hop headers dropped, and the
    ``Content-Encoding`` of a body that the recording stored decoded."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    kept = {name: value for name, value in pairs if name.lower() not in DROP_HEADERS}
    return Reply(status, kept, body.encode("utf-8") if isinstance(body, str) else body)


def query_params(request: Request) -> dict[str, str]:
    """The request's query parameters, the last value of each."""
    return {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}


@dataclass
class _Script:
    method: str
    path: str
    params: dict[str, str] | None
    reply: Reply
    times: int | None


class ScriptedAPI:
    """Base of the fakes: a LocalServer, scripted replies, and the request log."""

    def __init__(self, server: LocalServer):
        self.server = server
        self.scripts: list[_Script] = []

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def calls(self, path: str | None = None) -> list[Request]:
        """Requests received (to ``path`` only, if given), in order."""
        return [r for r in self.server.requests if path is None or r.path == path]

    def reply(self, path: str, reply: Reply, *, method: str = "GET", params: Mapping[str, str] | None = None,
              times: int | None = 1) -> None:
        """Serve ``reply`` to requests for ``path`` whose query includes ``params``
        (None: any query), ``times`` times (None: always); several play in order."""
        self.scripts.append(_Script(method.upper(), path, dict(params) if params is not None else None, reply, times))

    def _scripted(self, request: Request) -> Reply | None:
        params = query_params(request)
        for script in self.scripts:
            if script.method != request.method or script.path != request.path:
                continue
            if script.params is not None and any(params.get(k) != v for k, v in script.params.items()):
                continue
            if script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    self.scripts.remove(script)
            return script.reply
        return None


def page_html(title: str, lines: Iterable[str], notice: str) -> Reply:
    """A minimal page, so that item links in the demo open something offline."""
    import html

    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    page = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<p><em>{html.escape(notice)}</em></p><h1>{html.escape(title)}</h1>{body}</html>")
    return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, page.encode("utf-8"))
