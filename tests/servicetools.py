"""Helpers for testing the service: invented feeds, a systemd-style notify socket,
a config file writer, and `monitor run` as a subprocess."""

from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from tests.conftest import REPO


WORDS = ("council harbour library festival bakery railway orchard museum bridge garden market river "
         "school theatre stadium cycling choir ferry lighthouse allotment canal bus tram village fair "
         "weather flood bypass roadworks election budget recycling parking hospital clinic pharmacy").split()


def invented_headline(name: str, i: int) -> tuple[str, str]:
    """A headline and lead for invented story ``i`` of feed ``name``, different from story to
    story (as real stories are), so they are not taken for copies of one story."""
    rng = random.Random(f"{name}-{i}")
    return (f"{name} {i}: {' '.join(rng.sample(WORDS, 5))}",
            f"Invented story {i} about the {' and the '.join(rng.sample(WORDS, 4))}.")


def invented_rss(name: str, count: int, *, start: int = 0, base: str = "https://news.invented.test") -> bytes:
    """An RSS feed of ``count`` invented stories (every outlet and story is made up for the tests)."""
    when = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    items = "".join(
        f"<item><title>{invented_headline(name, i)[0]}</title>"
        f"<link>{base}/{name}/{i}</link><guid isPermaLink='false'>{name}-{i}</guid>"
        f"<pubDate>{format_datetime(when + timedelta(minutes=i))}</pubDate>"
        f"<description>{invented_headline(name, i)[1]}</description></item>"
        for i in range(start, start + count)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name} (invented)</title>'
            f"<link>{base}/{name}/</link><description>Invented for the tests.</description>{items}"
            "</channel></rss>").encode()


def invented_reddit_post(n: int, created: datetime, subreddit: str = "Parenting") -> dict[str, Any]:
    """Reddit's t3 ``data`` for an invented post (no real user, subreddit post or text)."""
    pid = f"9sv{n:04d}"
    title, lead = invented_headline("reddit", n)
    return {"id": pid, "name": f"t3_{pid}", "title": title, "selftext": lead, "author": f"invented_user_{n}",
            "subreddit": subreddit, "created_utc": created.timestamp(),
            "permalink": f"/r/{subreddit}/comments/{pid}/invented_{n}/", "url": "", "is_self": True,
            "score": 5, "num_comments": 0, "over_18": False}


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET (abstract by default)."""

    def __init__(self, path: Path | None = None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if path is None:
            self.name = f"@monitor-test-{uuid.uuid4().hex}"
            self.sock.bind(b"\0" + self.name[1:].encode())
        else:
            self.name = str(path)
            self.sock.bind(self.name)
        self.sock.settimeout(0.1)
        self.messages: list[dict[str, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            self.messages.append(fields)

    def with_key(self, key: str) -> list[dict[str, str]]:
        return [m for m in list(self.messages) if key in m]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def __enter__(self) -> "NotifySocket":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def write_config(path: Path, sections: dict[str, dict[str, Any]], feeds: Iterable[dict[str, Any]] = ()) -> Path:
    """Write a config.toml from plain dicts (tables, then [[feeds]])."""
    lines = []
    for name, table in sections.items():
        lines.append(f"[{name}]")
        nested = {k: v for k, v in table.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items() if key not in nested]
        lines.append("")
        for key, entries in nested.items():  # arrays of tables: [[reddit.subreddits]]
            for entry in entries:
                lines.append(f"[[{name}.{key}]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
                lines.append("")
    for feed in feeds:
        lines.append("[[feeds]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in feed.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def fast_sections(db: Path, **overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Second-scale intervals for service tests."""
    sections: dict[str, dict[str, Any]] = {
        "storage": {"path": str(db)},
        "http": {"timeout": 10.0, "connect_timeout": 5.0},
        "schedule": {"interval_minutes": 0.02, "min_interval_minutes": 0.01, "jitter": 0.0},
        "service": {"tick_seconds": 0.3},
    }
    for name, values in overrides.items():
        sections[name] = {**sections.get(name, {}), **values}
    return sections


def start_run(config: Path, cwd: Path, *, env: dict[str, str] | None = None, stderr: Any = None,
              options: tuple[str, ...] = ()) -> subprocess.Popen:
    """``monitor [OPTIONS] --config CONFIG run`` as a child process, logs to ``stderr`` (a file)."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("MONITOR_CONFIG", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM",
                                "CREDENTIALS_DIRECTORY", "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET",
                                "MONITOR_HASH_KEY")}
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "monitor", *options, "--config", str(config), "run"], cwd=cwd,
                            env=environment, stdout=subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def query(db: Path | str, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
    """Read with a fresh connection of our own, as an analyst would (empty if no database yet)."""
    db = Path(db)
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, list(params)).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()
