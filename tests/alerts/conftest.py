"""Alert test fixtures: the real SMTP server of the digest tests (aiosmtpd on 127.0.0.1),
a local webhook receiver, and a clock the tests move by hand."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest

from monitor.demo.server import LocalServer, Reply, Request
from tests.digest.conftest import SmtpServer, smtp_server  # noqa: F401  (the fixture, shared)


class Clock:
    """``clock()`` is now; ``clock.advance(minutes=30)`` moves it."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Webhook:
    """A chat webhook on 127.0.0.1: ``received`` holds the JSON bodies it accepted;
    set ``status`` to make it refuse (as Slack does with 5xx during an outage)."""

    PATH = "/services/T000/B000/secret-token"

    def __init__(self, server: LocalServer):
        self.server = server
        self.status = 200
        self.received: list[dict[str, Any]] = []
        self.refused = 0
        self.url = server.route(self.PATH, self._receive)

    def _receive(self, request: Request) -> Reply:
        if self.status != 200:
            self.refused += 1
            return Reply(self.status, {"Content-Type": "text/plain"}, b"service_unavailable")
        self.received.append(json.loads(request.body))
        return Reply(200, {"Content-Type": "text/plain"}, b"ok")

    def requests(self) -> list[Request]:
        return self.server.requests_to(self.PATH)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with LocalServer() as server:
        yield Webhook(server)


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """The CLI configures logging when invoked in-process (CliRunner); put it back, so
    tests that run after these still capture the package's log lines."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    named = ("", "monitor", "prawcore", "praw", "aiohttp", "urllib3", "apscheduler")
    levels = {name: logging.getLogger(name).level for name in named}
    yield
    root.handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
