"""The service (`monitor run`) alerts through the same collection cycle as the CLI, once;
its own alerts job sends what quiet hours held without waiting for a poll; and
`monitor doctor` reports alerts and the webhook secret only when it is used."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from monitor.cli import main
from monitor.config import config_from_dict, load_config
from monitor.doctor import check_credentials
from monitor.notify import Notifier
from monitor.service import Service
from monitor.types import utcnow
from tests.alerts.conftest import Clock
from tests.alerts.feeds import SEXTORTION, Entry, serve
from tests.servicetools import fast_sections, query, wait_until, write_config

RULE = {"name": "Snapchat sextortion", "topics": ["sextortion"], "platforms": ["snapchat"]}


def test_the_service_alerts_a_matching_story_once_and_doctor_says_so(server, tmp_path, smtp_server):
    story = Entry(*SEXTORTION, "https://gazette.example/news/sextortion-gang", utcnow() - timedelta(minutes=40))
    url = serve(server, "/gazette.xml", "Northshire Gazette", [story])
    db = tmp_path / "monitor.db"
    config_path = write_config(tmp_path / "config.toml",
                               fast_sections(db, email=smtp_server.email_config(),
                                             alerts={"spikes": False, "rules": [RULE]}),
                               [{"name": "Northshire Gazette", "url": url}])
    service = Service(load_config(config_path), notifier=Notifier(environ={}))
    service.start()

    def alerts() -> list[str]:  # (the service also mails the daily digest)
        subjects = [m.message["Subject"] for m in smtp_server.received]
        return [s for s in subjects if s.startswith("Alert")]

    try:
        wait_until(alerts, 60, "the alert email")
        wait_until(lambda: query(db, "SELECT COUNT(*) FROM runs")[0][0] >= 4, 30, "three more polls")
    finally:
        assert service.stop()
    assert alerts() == ['Alert: Priority rule "Snapchat sextortion": new story']
    assert query(db, "SELECT kind, status, attempts FROM alerts") == [("rule", "sent", 1)]

    result = CliRunner().invoke(main, ["--config", str(config_path), "doctor"])
    lines = result.output.splitlines()
    assert any(line.startswith("OK    alerts: 1 rule(s); 1 alert(s) in the last 7 days, the last sent ")
               for line in lines), result.output
    assert not any("MONITOR_ALERT_WEBHOOK_URL" in line for line in lines)  # no webhook in use: not a needed secret


def test_doctor_needs_the_webhook_secret_only_when_an_alert_uses_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("MONITOR_ALERT_WEBHOOK_URL", raising=False)
    email_only = config_from_dict({"alerts": {"rules": [RULE]}})
    assert [c.line() for c in check_credentials(email_only, tmp_path)] == [
        "OK    credentials: none needed by this configuration"]
    webhook = config_from_dict({"alerts": {"rules": [{**RULE, "channel": "webhook"}]}})
    assert [c.line() for c in check_credentials(webhook, tmp_path)] == [
        f"FAIL  credentials: MONITOR_ALERT_WEBHOOK_URL (for alerts.webhook_url_env) is not set: put it in "
        f"{tmp_path / 'MONITOR_ALERT_WEBHOOK_URL'} (LoadCredential= in the unit) or in the environment"]
    monkeypatch.setenv("MONITOR_ALERT_WEBHOOK_URL", "https://hooks.example/T0/B0/very-secret")
    lines = [c.line() for c in check_credentials(webhook, tmp_path)]
    assert lines == ["OK    credentials: MONITOR_ALERT_WEBHOOK_URL (for alerts.webhook_url_env) is present"]
    assert "very-secret" not in "".join(lines)


def test_the_service_sends_an_alert_held_for_quiet_hours_once_when_they_end_without_a_poll(
        server, tmp_path, smtp_server):
    clock = Clock(datetime(2026, 6, 1, 22, 30, tzinfo=timezone.utc))  # 23:30 in London: quiet hours
    story = Entry(*SEXTORTION, "https://gazette.example/news/sextortion-gang", clock.now - timedelta(minutes=40))
    url = serve(server, "/gazette.xml", "Northshire Gazette", [story])
    db = tmp_path / "monitor.db"
    sections = fast_sections(db, email=smtp_server.email_config(),
                             schedule={"interval_minutes": 720.0, "min_interval_minutes": 60.0},  # polled once
                             alerts={"spikes": False, "source_health": False, "quiet_hours": "22:00-07:00",
                                     "check_minutes": 0.01, "rules": [RULE]})
    config_path = write_config(tmp_path / "config.toml", sections, [{"name": "Northshire Gazette", "url": url}])
    service = Service(load_config(config_path), notifier=Notifier(environ={}), clock=clock)
    service.start()

    def alerts() -> list[str]:
        return [m.message["Subject"] for m in smtp_server.received if m.message["Subject"].startswith("Alert")]

    def checks() -> int:
        return service.stats["alerts"].runs

    try:
        assert "alerts" in service.job_names()
        wait_until(lambda: query(db, "SELECT status FROM alerts") == [("pending",)], 60, "the alert, held")
        held = checks()
        wait_until(lambda: checks() >= held + 3, 20, "three alert checks in quiet hours")
        assert alerts() == []  # held
        polls = len(server.requests_to("/gazette.xml"))

        clock.advance(hours=7, minutes=40)  # 07:10 in London: quiet hours are over; no source is due
        wait_until(alerts, 20, "the held alert, sent by the alerts job")
        sent = checks()
        wait_until(lambda: checks() >= sent + 3, 20, "three more alert checks")
    finally:
        assert service.stop()
    assert alerts() == ['Alert: Priority rule "Snapchat sextortion": new story']  # once
    assert len(server.requests_to("/gazette.xml")) == polls == 1  # no cycle polled a source to send it
    assert query(db, "SELECT status, attempts FROM alerts") == [("sent", 1)]
    jobs = dict(query(db, "SELECT job, last_summary FROM service_jobs"))
    assert jobs["alerts"] == "sent 1 alert in 1 message by email"
