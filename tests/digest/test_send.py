"""Sending the digest to a real SMTP server on 127.0.0.1: the message's parts, at most once
per date, crash recovery with the same Message-ID, failures, logins, TLS and deadlines."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import pytest

from monitor.errors import DigestError
from monitor.store.digest import get_record
from tests.digest.conftest import write_newsroom_config
from tests.digest.scenario import DAY, NOW
from tests.helpers import kill_while_sending


def record(app, day=DAY):
    return get_record(app.store.db, day.isoformat())


def test_the_digest_arrives_as_text_html_and_an_inline_chart(newsroom_app, smtp_server):
    with newsroom_app(email=smtp_server.email_config()) as app:
        result = app.send_digest()
        stored = record(app)
    assert result.status == "sent" and result.day == DAY
    (received,) = smtp_server.received
    assert received.sender == "monitor@campaign.test"
    assert sorted(received.recipients) == ["campaigns@campaign.test", "press.office@campaign.test"]
    message = received.message
    assert message["Subject"] == ("Online child safety briefing, Sat 28 Nov 2026: 14 relevant items, 7 top stories;"
                                  " busiest topic: Grooming")
    assert message["From"] == "Monitor <monitor@campaign.test>"
    assert message["To"] == "campaigns@campaign.test, press.office@campaign.test"
    assert message["Message-ID"] == result.message_id == stored.message_id
    assert message["Auto-Submitted"] == "auto-generated"

    assert message.get_content_type() == "multipart/alternative"
    text_part, related = message.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert "Sextortion reports involving teenage boys rise sharply, NCA says" in text_part.get_content()
    assert related.get_content_type() == "multipart/related"
    html_part, image = related.get_payload()
    assert html_part.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    assert image.get_content_disposition() == "inline"
    assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    cid = image["Content-ID"].strip("<>")
    html = html_part.get_content()
    assert f'src="cid:{cid}"' in html
    assert "src=\"http" not in html and "chart.png" not in html  # nothing remote, nothing relative

    assert stored.status == "sent" and stored.recipients == ("campaigns@campaign.test", "press.office@campaign.test")
    assert stored.sent_at == "2026-11-28T07:30:00Z" and stored.attempts == 1
    assert result.built.html_path.with_name("message.eml").read_bytes() == received.data.replace(b"\r\n", b"\n")


def test_the_digest_just_built_is_the_one_sent_not_a_second_build(newsroom_app, smtp_server):
    """`monitor digest --send` prints a digest's figures and archives it, then mails that
    same digest: a story stored in between does not make the email differ from both."""
    from monitor.sources import source_id
    from monitor.types import Source
    from tests.digest.builder import DigestDB, feed_url

    with newsroom_app(email=smtp_server.email_config()) as app:
        built = app.build_digest()
        gazette = Source(source_id("feed", "Northshire Gazette"), "feed", "Northshire Gazette",
                         feed_url("Northshire Gazette"))
        DigestDB(app.config.storage.path, NOW, store=app.store).item(
            gazette, "Late invented story about grooming on Roblox", hours_ago=1, topics=["grooming"],
            item_id="late-story")
        result = app.send_digest(built.day, built=built)
        rebuilt = app.build_digest()  # what building again would have sent
    assert result.status == "sent" and result.built is built
    text_part, _related = smtp_server.received[0].message.get_payload()
    assert text_part.get_content().replace("\r\n", "\n") == built.text and "Late invented story" not in built.text
    assert smtp_server.received[0].message["Subject"] == built.subject
    assert "Late invented story" in rebuilt.text


def test_sending_twice_sends_once_and_force_sends_again(newsroom_app, smtp_server):
    with newsroom_app(email=smtp_server.email_config()) as app:
        first = app.send_digest()
        second = app.send_digest()
        assert len(smtp_server.received) == 1
        assert second.status == "already_sent" and second.message_id == first.message_id
        forced = app.send_digest(force=True)
    assert forced.status == "sent" and len(smtp_server.received) == 2
    assert forced.message_id != first.message_id  # a deliberate second copy must not be deduplicated away


def test_a_send_that_fails_is_recorded_and_retried_as_the_same_message(newsroom_app, smtp_server):
    smtp_server.reject = "554 5.7.1 Delivery not authorised"
    with newsroom_app(email=smtp_server.email_config()) as app:
        with pytest.raises(DigestError, match="was not sent: .*554"):
            app.send_digest()
        failed = record(app)
        assert failed.status == "built" and "554" in failed.send_error and failed.message_id
        smtp_server.reject = None
        result = app.send_digest()
        assert (result.status, result.message_id, result.attempts) == ("sent", failed.message_id, 2)
    assert len(smtp_server.received) == 1


def test_a_live_sender_is_never_doubled(newsroom_app, smtp_server):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with newsroom_app(email=smtp_server.email_config()) as app:
            app.build_digest()
            app.store.db.execute(
                "UPDATE digests SET status = 'sending', send_started_at = ?, sending_pid = ?, sending_host = ?,"
                " sending_token = 'another-process', message_id = '<x@campaign.test>' WHERE date = ?",
                ["2026-11-28T07:29:30Z", sleeper.pid, socket.gethostname(), DAY.isoformat()])
            app.store.db.conn.commit()
            with pytest.raises(DigestError, match="being sent right now by another process"):
                app.send_digest()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert smtp_server.received == []


def test_kill_9_mid_send_is_resent_once_with_the_same_message_id(newsroom_app, smtp_server, tmp_path):
    """A sender killed while talking to the server (before the message was transferred)
    leaves "sending"; the next run sends it, exactly once, as the same message."""
    day = date.today() - timedelta(days=1)  # the CLI runs on the real clock: a day that has ended
    with newsroom_app():  # the newsroom database, copied into tmp_path
        pass
    config = write_newsroom_config(tmp_path, smtp_server.port)
    killed = kill_while_sending(smtp_server, ["--config", str(config), "digest", "--date", day.isoformat(), "--send"])
    assert smtp_server.received == []  # the message never got through

    from monitor.app import open_monitor
    from monitor.config import load_config

    with open_monitor(load_config(config)) as again:
        interrupted = record(again, day)
        assert interrupted.status == "sending" and interrupted.sending_pid == killed
        result = again.send_digest(day)
        assert again.send_digest(day).status == "already_sent"
    assert result.status == "sent" and result.resumed
    assert result.message_id == interrupted.message_id
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].message["Message-ID"] == interrupted.message_id


def test_login_uses_the_password_from_the_environment(newsroom_app, smtp_server, monkeypatch):
    email = smtp_server.email_config(username="monitor-bot", password_env="TEST_SMTP_PASSWORD")
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with newsroom_app(email=email) as app:
        with pytest.raises(DigestError, match="no SMTP password: set the environment variable TEST_SMTP_PASSWORD"):
            app.send_digest()
        assert smtp_server.logins == [] and record(app).status == "built"
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret-for-tests")
        assert app.send_digest().status == "sent"
    assert smtp_server.logins == [("monitor-bot", "s3cret-for-tests")] and len(smtp_server.received) == 1


def test_the_password_can_come_from_a_systemd_credential(newsroom_app, smtp_server, monkeypatch, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "TEST_SMTP_PASSWORD").write_text("s3cret-for-tests\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    email = smtp_server.email_config(username="monitor-bot", password_env="TEST_SMTP_PASSWORD")
    with newsroom_app(email=email) as app:
        assert app.send_digest().status == "sent"
    assert smtp_server.logins == [("monitor-bot", "s3cret-for-tests")]


def test_starttls_is_never_skipped(newsroom_app, smtp_server):
    """A server that does not offer STARTTLS gets nothing, not a message in clear text."""
    with newsroom_app(email=smtp_server.email_config(security="starttls")) as app:
        with pytest.raises(DigestError, match="does not offer STARTTLS; refusing to send in clear text"):
            app.send_digest()
        assert record(app).status == "built"
    assert smtp_server.received == []


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_the_digest_arrives_over_tls_and_starttls(newsroom_app, tls_smtp, monkeypatch, security):
    """Both encrypted modes deliver, verifying the server's certificate against the
    trust store (here the test CA, through OpenSSL's SSL_CERT_FILE), with the login
    inside the encrypted session."""
    smtp = tls_smtp(security)
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp.ca_file))
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "s3cret-for-tests")
    email = smtp.server.email_config(security=security, username="monitor-bot")
    with newsroom_app(email=email) as app:
        result = app.send_digest()
        assert record(app).status == "sent"
    assert result.status == "sent"
    (received,) = smtp.server.received
    assert received.encrypted
    assert received.message["Message-ID"] == result.message_id
    assert received.message["Subject"].startswith("Online child safety briefing, Sat 28 Nov 2026")
    assert smtp.server.logins == [("monitor-bot", "s3cret-for-tests")]


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_certificate_the_client_does_not_trust_stops_the_send(newsroom_app, tls_smtp, monkeypatch, tmp_path,
                                                               security):
    """A server whose certificate comes from a CA we do not trust (an impostor, or a
    relay whose certificate was never set up) gets nothing: one clear error, the
    digest stays unsent and is tried again later."""
    trustme = pytest.importorskip("trustme")
    smtp = tls_smtp(security)
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA(organization_name="some other CA").cert_pem.write_to_path(str(other_ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "s3cret-for-tests")
    with newsroom_app(email=smtp.server.email_config(security=security, username="monitor-bot")) as app:
        with pytest.raises(DigestError) as caught:
            app.send_digest()
        stored = record(app)
    message = str(caught.value)
    assert f"TLS with 127.0.0.1:{smtp.server.port} failed: CERTIFICATE_VERIFY_FAILED" in message
    assert "\n" not in message
    assert stored.status == "built" and stored.sent_at is None and "CERTIFICATE_VERIFY_FAILED" in stored.send_error
    assert smtp.server.received == [] and smtp.server.logins == []  # not even the password went out


def test_a_server_that_trickles_is_cut_off_at_the_deadline(newsroom_app):
    """Each line arrives within the socket timeout, but the whole send has a hard deadline."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            while not stop.is_set():
                try:
                    connection.sendall(b"220-still here\r\n")
                except OSError:
                    return
                time.sleep(0.2)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    email = {"host": "127.0.0.1", "port": listener.getsockname()[1], "security": "none",
             "sender": "monitor@campaign.test", "recipients": ["campaigns@campaign.test"], "timeout": 1.0}
    try:
        with newsroom_app(email=email) as app:
            started = time.monotonic()
            with pytest.raises(DigestError, match="took longer than 1 s; gave up"):
                app.send_digest()
            assert time.monotonic() - started < 10
    finally:
        stop.set()
        listener.close()


def test_a_day_that_is_not_over_cannot_be_sent(newsroom_app, smtp_server):
    with newsroom_app(email=smtp_server.email_config(), clock=lambda: NOW - timedelta(minutes=1)) as app:
        with pytest.raises(DigestError, match="which is not over yet"):
            app.send_digest(DAY)
    assert smtp_server.received == []


def test_sending_needs_a_sender_and_recipients(newsroom_app):
    with newsroom_app() as app:
        with pytest.raises(DigestError, match="set email.sender and email.recipients in the configuration"):
            app.send_digest()
