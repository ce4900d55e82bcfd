"""Delivery: exactly once across failures, a killed sender and a second process."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from monitor.app import open_monitor
from monitor.config import load_config
from monitor.types import utcnow
from tests.alerts.history import History
from tests.helpers import kill_while_sending, rows


def write_config(folder: Path, smtp_port: int) -> Path:
    path = folder / "config.toml"
    path.write_text(f"""
[storage]
path = "{folder / 'monitor.db'}"

[email]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "monitor@campaign.test"
recipients = ["campaigns@campaign.test"]
timeout = 30

[alerts]
spikes = false
source_health = false

[[alerts.rules]]
name = "Snapchat grooming"
topics = ["grooming"]
platforms = ["snapchat"]
""", encoding="utf-8")
    return path


def add_story(folder: Path, title: str = "Invented grooming story naming Snapchat") -> None:
    history = History(folder / "monitor.db", utcnow(), prefix=title[:8])
    history.add("Wirecast", utcnow(), topics=["grooming"], platforms=["snapchat"], title=title)
    history.flush()
    history.close()


def test_a_failed_send_is_kept_and_retried_once(tmp_path, smtp_server):
    config = load_config(write_config(tmp_path, smtp_server.port))
    add_story(tmp_path)
    smtp_server.reject = "554 5.7.1 Service unavailable"
    with open_monitor(config) as monitor:
        first = monitor.run_alerts()
        assert first.delivery.failures and "554" in first.delivery.failures[0]
        kept = rows(monitor, "SELECT status, attempts, last_error FROM alerts")
        assert kept[0]["status"] == "pending" and kept[0]["attempts"] == 1 and "554" in kept[0]["last_error"]
        smtp_server.reject = None
        assert monitor.run_alerts().delivery.sent == [1]
        assert monitor.run_alerts().delivery.sent == []
    assert len(smtp_server.received) == 1


def test_kill_9_mid_send_is_resent_once_with_the_same_message_id(tmp_path, smtp_server):
    """A sender killed while talking to the server (before the message was transferred)
    leaves "sending"; the next run sends the same message, exactly once."""
    path = write_config(tmp_path, smtp_server.port)
    add_story(tmp_path)
    killed = kill_while_sending(smtp_server, ["--config", str(path), "alerts", "run"])
    assert smtp_server.received == []

    with open_monitor(load_config(path)) as monitor:
        interrupted = rows(monitor, "SELECT status, message_id, sending_pid FROM alerts")
        assert len(interrupted) == 1 and interrupted[0]["status"] == "sending"
        assert interrupted[0]["sending_pid"] == killed
        report = monitor.run_alerts()
        assert report.created == [] and report.delivery.sent == [1]
        assert monitor.run_alerts().delivery.sent == []
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].message["Message-ID"] == interrupted[0]["message_id"]


def test_alerts_being_sent_by_a_live_process_are_left_to_it(tmp_path, smtp_server):
    config = load_config(write_config(tmp_path, smtp_server.port))
    add_story(tmp_path)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with open_monitor(config) as monitor:
            monitor.run_alerts(send=False)
            monitor.store.db.execute(
                "UPDATE alerts SET status = 'sending', send_started_at = ?, sending_pid = ?, sending_host = ?,"
                " sending_token = 'another-process', message_id = '<x@campaign.test>'",
                [utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), sleeper.pid, socket.gethostname()])
            monitor.store.db.conn.commit()
            report = monitor.run_alerts()
            assert report.delivery.busy == 1 and report.delivery.sent == []
            assert "1 being sent by another process" in report.summary()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert smtp_server.received == []


def test_email_without_recipients_stays_pending_with_the_reason(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "monitor.db"}"\n\n[alerts]\nspikes = false\n'
                    '\n[[alerts.rules]]\nname = "Snapchat grooming"\nplatforms = ["snapchat"]\n', encoding="utf-8")
    add_story(tmp_path)
    with open_monitor(load_config(path)) as monitor:
        report = monitor.run_alerts()
        assert report.delivery.failures == ["email: cannot send mail: set email.sender and email.recipients"
                                            " in the configuration"]
        assert rows(monitor, "SELECT status FROM alerts") == [{"status": "pending"}]
