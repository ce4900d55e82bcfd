"""Digest test fixtures: a real SMTP server on 127.0.0.1 (aiosmtpd) and a Monitor over a
realistic tagged database whose clock is the digest's due time."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from monitor.app import Monitor
from monitor.config import Config, config_from_dict
from monitor.store import open_store
from tests.digest.builder import feed_url
from tests.digest.scenario import FEEDS, NOW, SEARCH, SEARCH_TEMPLATE, newsroom, sources_config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    encrypted: bool = False  # the session was under TLS when the message came

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SmtpServer:
    """What a real SMTP server on 127.0.0.1 received, and the logins it saw."""

    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    reject: str | None = None  # answer DATA with this instead of accepting
    stall_rcpt: float = 0.0  # hold each RCPT this many seconds (to kill a client mid-send)
    rcpt_seen: threading.Event = field(default_factory=threading.Event)

    def email_config(self, **overrides: Any) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "security": "none", "sender": "Monitor <monitor@campaign.test>",
                "recipients": ["campaigns@campaign.test", "press.office@campaign.test"], "timeout": 10.0,
                **overrides}


def _serve_smtp(server: SmtpServer, **smtp_options: Any) -> Any:
    """Start aiosmtpd on ``server.port`` recording into ``server``; returns its controller."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class Handler:
        async def handle_RCPT(self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any) -> str:
            server.rcpt_seen.set()
            if server.stall_rcpt:
                await asyncio.sleep(server.stall_rcpt)
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, smtp: Any, _session: Any, envelope: Any) -> str:
            if server.reject:
                return server.reject
            server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                            encrypted=smtp.transport.get_extra_info("ssl_object") is not None))
            return "250 Message accepted for delivery"

    def authenticate(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            server.logins.append((login, password))
            return AuthResult(success=password == "s3cret-for-tests")
        return AuthResult(success=False)

    controller = Controller(Handler(), hostname="127.0.0.1", port=server.port, authenticator=authenticate,
                            **smtp_options)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is a test dependency: pip install -e '.[test]'")
    server = SmtpServer(free_port())
    controller = _serve_smtp(server, auth_require_tls=False)
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class TlsSmtp:
    """An SMTP server on 127.0.0.1 speaking TLS, its certificate issued by a test CA."""

    server: SmtpServer
    ca_file: Path  # the PEM of the CA that signed the server's certificate


@pytest.fixture
def tls_smtp(tmp_path: Path) -> Iterator[Callable[[str], TlsSmtp]]:
    """``tls_smtp("tls")``: aiosmtpd with TLS from the first byte; ``tls_smtp("starttls")``:
    aiosmtpd that offers STARTTLS and refuses mail before it. Each has a certificate
    for 127.0.0.1 and localhost from a CA made for the test (trustme)."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is a test dependency: pip install -e '.[test]'")
    trustme = pytest.importorskip("trustme", reason="trustme is a test dependency: pip install -e '.[test]'")
    import ssl

    controllers: list[Any] = []

    def start(security: str) -> TlsSmtp:
        ca = trustme.CA(organization_name="monitor tests CA")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        ca_file = tmp_path / f"ca-{len(controllers)}.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        server = SmtpServer(free_port())
        if security == "tls":
            options: dict[str, Any] = {"ssl_context": context, "auth_require_tls": False}
        else:
            options = {"tls_context": context, "require_starttls": True}
        controllers.append(_serve_smtp(server, **options))
        return TlsSmtp(server, ca_file)

    try:
        yield start
    finally:
        for controller in controllers:
            controller.stop()


def newsroom_config(folder: Path, **sections: Any) -> Config:
    data: dict[str, Any] = {
        "storage": {"path": str(folder / "monitor.db")},
        "digest": {"archive_dir": str(folder / "archive"), **sections.pop("digest", {})},
        **sources_config(),
    }
    data.update(sections)
    return config_from_dict(data, "test.toml")


def open_newsroom(template: Path, folder: Path, clock: Callable[[], datetime] | None = None,
                  **sections: Any) -> Monitor:
    """A Monitor over a fresh copy of the newsroom database, its clock at the digest's due time."""
    config = newsroom_config(folder, **sections)
    shutil.copyfile(template, config.storage.path)
    return Monitor(config, open_store(config.storage.path), clock=clock or (lambda: NOW))


@pytest.fixture(scope="session")
def newsroom_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The newsroom database, built once per test run and copied by each test that uses it."""
    path = tmp_path_factory.mktemp("newsroom") / "template.db"
    newsroom(path, NOW).close()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def newsroom_app(tmp_path: Path, newsroom_template: Path) -> Callable[..., Monitor]:
    def make(clock: Callable[[], datetime] | None = None, **sections: Any) -> Monitor:
        return open_newsroom(newsroom_template, tmp_path, clock, **sections)

    return make


def write_newsroom_config(folder: Path, smtp_port: int | None = None) -> Path:
    """A config.toml for the newsroom in ``folder`` (for the CLI), mailing to ``smtp_port``."""
    feeds = "".join(f'[[feeds]]\nname = "{name}"\nurl = "{feed_url(name)}"\n\n' for name in FEEDS)
    email = "" if smtp_port is None else f"""
[email]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "monitor@campaign.test"
recipients = ["campaigns@campaign.test"]
timeout = 30
"""
    text = f"""
[storage]
path = "{folder / 'monitor.db'}"

[digest]
archive_dir = "{folder / 'archive'}"
{email}
[queries_settings]
url_template = "{SEARCH_TEMPLATE}"

[[queries]]
name = "{SEARCH[0]}"
terms = "{SEARCH[1]}"

{feeds}"""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
