"""Shared fixtures: a real HTTP server on 127.0.0.1, config and app factories, and
the real-world fixtures in ../shared (skipped, with the reason, when that folder is absent)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from monitor.config import Config, config_from_dict
from monitor.demo.bluesky_api import FakeBlueskyAPI
from monitor.demo.hansard_api import FakeHansardAPI
from monitor.demo.mastodon_api import FakeMastodonInstance
from monitor.demo.reddit_api import FakeRedditAPI
from monitor.demo.server import LocalServer

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SHARED = Path(os.environ.get("MONITOR_SHARED", REPO.parent / "shared"))


def _loopback_only(connect: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``socket.connect``/``connect_ex`` so a test can only reach this machine."""
    import functools
    import ipaddress
    import socket

    @functools.wraps(connect)
    def guarded(sock: socket.socket, address: Any, *args: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            try:
                allowed = ipaddress.ip_address(host.split("%")[0]).is_loopback
            except ValueError:
                allowed = host == "localhost"
            if not allowed:
                raise OSError(101, f"the tests never reach beyond 127.0.0.1: blocked a connection to {host}")
        return connect(sock, address, *args)

    return guarded


def pytest_configure(config: pytest.Config) -> None:
    """Every test runs offline: any attempt to connect beyond loopback fails at once
    (in this process; subprocesses get their servers' 127.0.0.1 URLs from the tests)."""
    import socket

    socket.socket.connect = _loopback_only(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _loopback_only(socket.socket.connect_ex)  # type: ignore[method-assign]


def shared_path(*parts: str) -> Path:
    """A path inside ../shared, or skip the test saying which folder is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the real-world fixtures in {SHARED / parts[0]} (folder not found)")
    return path


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """Build a validated Config whose database lives in the test's tmp dir."""

    def build(**sections: Any) -> Config:
        data: dict[str, Any] = {"storage": {"path": str(tmp_path / "monitor.db")}}
        data["http"] = {"timeout": 10.0, "connect_timeout": 5.0, **sections.pop("http", {})}
        data["schedule"] = {"jitter": 0.0, **sections.pop("schedule", {})}
        data.update(sections)
        return config_from_dict(data, "test.toml")

    return build


@pytest.fixture
def reddit_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRedditAPI]:
    """A fake Reddit API on 127.0.0.1, with its credentials in the environment (and no
    systemd credentials or hash key from the machine running the tests)."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("MONITOR_HASH_KEY", raising=False)
    with LocalServer() as local:
        api = FakeRedditAPI(local)
        monkeypatch.setenv("REDDIT_CLIENT_ID", api.client_id)
        monkeypatch.setenv("REDDIT_CLIENT_SECRET", api.client_secret)
        yield api
        api.close()


@pytest.fixture
def hansard_api() -> Iterator[FakeHansardAPI]:
    """A fake Hansard API on 127.0.0.1 (monitor.demo.hansard_api)."""
    with LocalServer() as local:
        yield FakeHansardAPI(local)


@pytest.fixture
def mastodon_instances(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeMastodonInstance, FakeMastodonInstance]]:
    """Two fake Mastodon instances on 127.0.0.1 (monitor.demo.mastodon_api), and no hash
    key from the machine running the tests."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("MONITOR_HASH_KEY", raising=False)
    with LocalServer() as first, LocalServer() as second:
        yield FakeMastodonInstance(first), FakeMastodonInstance(second)


@pytest.fixture
def bluesky_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBlueskyAPI]:
    """A fake Bluesky server on 127.0.0.1 (monitor.demo.bluesky_api), with its account's
    handle and app password in the environment (and no systemd credentials or hash key
    from the machine running the tests)."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("MONITOR_HASH_KEY", raising=False)
    with LocalServer() as local:
        api = FakeBlueskyAPI(local)
        monkeypatch.setenv("BLUESKY_HANDLE", api.handle)
        monkeypatch.setenv("BLUESKY_APP_PASSWORD", api.app_password)
        yield api
