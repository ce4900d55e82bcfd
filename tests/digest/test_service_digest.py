"""The service's digest job against a real SMTP server on 127.0.0.1: exactly one digest
per date, through a kill -9 in the middle of sending, restarts and a server that is down."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from monitor.config import load_config
from monitor.demo.server import static
from monitor.notify import Notifier
from monitor.service import Service
from tests.conftest import DATA
from tests.servicetools import fast_sections, query, start_run, wait_until, write_config

GAZETTE = (DATA / "feeds" / "ours_rss20.xml").read_bytes()  # 4 items, written for the tests


def digest_config(tmp_path: Path, server: Any, smtp: Any, **service: Any) -> tuple[Path, str]:
    """A config whose digest fell due two minutes ago (UTC), mailed to ``smtp``; and that date."""
    due = datetime.now(timezone.utc) - timedelta(minutes=2)
    feed = server.route("/gazette.xml", static(GAZETTE))
    path = write_config(tmp_path / "config.toml", fast_sections(
        tmp_path / "monitor.db",
        digest={"time": f"{due:%H:%M}", "timezone": "UTC", "archive_dir": str(tmp_path / "archive")},
        email=smtp.email_config(),
        service={"digest_retry_minutes": 0.02, **service}),
        [{"name": "Gazette", "url": feed}])
    return path, due.date().isoformat()


def test_kill_9_during_the_digest_job_then_restart_sends_exactly_one_digest(server, smtp_server, tmp_path):
    config, day = digest_config(tmp_path, server, smtp_server)
    db = tmp_path / "monitor.db"
    smtp_server.stall_rcpt = 30  # the first service is killed while talking to the SMTP server
    first = start_run(config, tmp_path)
    try:
        assert smtp_server.rcpt_seen.wait(30), "the digest job never reached the SMTP server"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    smtp_server.stall_rcpt = 0
    assert smtp_server.received == []
    interrupted = query(db, "SELECT status, message_id FROM digests WHERE date = ?", [day])
    assert interrupted and interrupted[0][0] == "sending"

    second = start_run(config, tmp_path)
    try:
        wait_until(lambda: query(db, "SELECT status FROM digests WHERE date = ?", [day]) == [("sent",)], 30,
                   "the digest to be sent after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0

    # Once more, with the digest already sent: nothing goes out.
    service = Service(load_config(config), notifier=Notifier(environ={}))
    service.start()
    try:
        wait_until(lambda: service.stats["digest"].runs >= 1, 20, "the digest check at start-up")
    finally:
        assert service.stop()
    assert len(smtp_server.received) == 1
    message = smtp_server.received[0].message
    assert message["Message-ID"] == interrupted[0][1]  # the interrupted message, sent once
    assert sorted(smtp_server.received[0].recipients) == ["campaigns@campaign.test", "press.office@campaign.test"]
    assert (tmp_path / "archive" / day / "message.eml").exists()


def test_a_digest_the_server_refused_is_retried_until_it_goes_out_once(server, smtp_server, tmp_path, caplog):
    config, day = digest_config(tmp_path, server, smtp_server)
    smtp_server.reject = "451 4.3.0 Try again later (invented outage)"
    service = Service(load_config(config), notifier=Notifier(environ={}))
    service.start()
    try:
        wait_until(lambda: service.stats["digest"].errors >= 1, 30, "a failed send")
        smtp_server.reject = None  # the server is back
        wait_until(lambda: len(smtp_server.received) == 1, 30, "the retry to send it")
        wait_until(lambda: query(tmp_path / "monitor.db", "SELECT status FROM digests") == [("sent",)], 10,
                   "the digest recorded as sent")
    finally:
        assert service.stop()
    assert len(smtp_server.received) == 1
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR" and "digest" in r.getMessage()]
    assert errors and f"the digest for {day} was not sent" in errors[0] and "trying again in 0.02 min" in errors[0]
    # `monitor doctor` reports it.
    from monitor.doctor import check_digest, open_readonly

    db = open_readonly(tmp_path / "monitor.db")
    try:
        line = check_digest(load_config(config), db, datetime.now(timezone.utc)).line()
    finally:
        db.conn.close()
    assert line.startswith(f"OK    digest: the digest for {day} was sent ") and line.endswith("to 2 recipient(s)")
