"""Small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from monitor.app import Monitor, open_monitor
from monitor.config import Config
from monitor.demo.server import LocalServer, static


def serve_files(server: LocalServer, files: Mapping[str, Path | bytes], content_type: str = "application/rss+xml"
                ) -> list[dict[str, Any]]:
    """Serve each file at /<name>.xml and return [[feeds]] entries for them."""
    feeds = []
    for name, source in files.items():
        body = source.read_bytes() if isinstance(source, Path) else source
        url = server.route(f"/{name}.xml", static(body, content_type))
        feeds.append({"name": name, "url": url})
    return feeds


def open_app(make_config: Callable[..., Config], **sections: Any) -> Monitor:
    return open_monitor(make_config(**sections))


def rows(monitor: Monitor, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = monitor.store.db.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- Reddit ---------------------------------------------------------------------------

REDDIT_USER_AGENT = "python:org.example.monitor-tests:0.1 (by /u/monitor_tests)"


def reddit_section(api: Any, **overrides: Any) -> dict[str, Any]:
    """A ``[reddit]`` table pointing praw at a FakeRedditAPI."""
    return {"user_agent": REDDIT_USER_AGENT, "oauth_url": api.base_url, "reddit_url": api.base_url, **overrides}


def our_reddit_posts() -> tuple[Any, list[dict[str, Any]]]:
    """(the time the posts are relative to, the invented posts in tests/data/reddit)."""
    import json

    from monitor.types import from_iso
    from tests.conftest import DATA

    data = json.loads((DATA / "reddit" / "ours_posts.json").read_text(encoding="utf-8"))
    return from_iso(data["now"]), data["posts"]


# --- recorded HTTP (YAML cassettes in ../shared) and our own API data -----------------------


def read_yaml_cassette(path: Path) -> list[dict[str, Any]]:
    """The exchanges of an R ``vcr`` or Python ``vcrpy`` YAML cassette, as
    ``{"method", "uri", "status", "headers" (name -> value), "body" (text)}``."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    exchanges = []
    for interaction in data.get("http_interactions") or data.get("interactions") or []:
        request, response = interaction["request"], interaction["response"]
        status = response["status"]["code"] if isinstance(response["status"], dict) else int(response["status"])
        headers = {name: value[-1] if isinstance(value, list) else str(value)
                   for name, value in (response.get("headers") or {}).items()}
        body = response.get("body") or {}
        exchanges.append({"method": request["method"].upper(), "uri": request["uri"], "status": status,
                          "headers": headers, "body": body.get("string", "") if isinstance(body, dict) else str(body)})
    return exchanges


def recorded(path: Path, uri_part: str) -> Any:
    """The Reply of the exchange in a YAML cassette whose URI contains ``uri_part``."""
    from monitor.demo.fake_api import recorded_reply

    exchange = next(e for e in read_yaml_cassette(path) if uri_part in e["uri"])
    return recorded_reply(exchange["status"], exchange["headers"], exchange["body"])


def our_data(folder: str, name: str) -> dict[str, Any]:
    """One of our invented API data files in tests/data/<folder>/."""
    import json

    from tests.conftest import DATA

    return json.loads((DATA / folder / name).read_text(encoding="utf-8"))


def kill_while_sending(smtp_server: Any, args: list[str]) -> int:
    """Run ``monitor ARGS`` in a child process and ``kill -9`` it while the local SMTP
    server holds its RCPT (the message is on its way, not delivered); returns its pid."""
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    smtp_server.stall_rcpt = 20
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    child = subprocess.Popen([sys.executable, "-m", "monitor", *args], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert smtp_server.rcpt_seen.wait(60), child.communicate(timeout=5)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    smtp_server.stall_rcpt = 0
    return child.pid
