"""Priority rules, end to end: feeds on 127.0.0.1 -> collection and the real tagger -> a
rule -> one email through a real SMTP server (or one webhook post), exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from monitor.app import open_monitor
from monitor.demo.server import LocalServer
from tests.alerts.conftest import Clock
from tests.alerts.feeds import DOG_GROOMING, SEXTORTION, Entry, serve
from tests.helpers import rows

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
RULE = {"name": "Snapchat sextortion", "topics": ["sextortion"], "platforms": ["Snapchat"]}


def sections(smtp: Any, **alerts: Any) -> dict[str, Any]:
    return {"email": smtp.email_config(), "digest": {"timezone": "Europe/London"},
            "alerts": {"rules": [RULE], "spikes": False, **alerts}}


def test_one_story_one_alert_never_again_for_a_copy_or_after_a_restart(server: LocalServer, smtp_server,
                                                                        make_config) -> None:
    clock = Clock(T0)
    story = Entry(*SEXTORTION, "https://gazette.example/news/sextortion-gang", T0 - timedelta(minutes=40))
    dogs = Entry(*DOG_GROOMING, "https://gazette.example/news/dogs", T0 - timedelta(minutes=30))
    gazette = serve(server, "/gazette.xml", "Northshire Gazette", [story, dogs])
    echo = serve(server, "/echo.xml", "Harbourton Echo", [])
    config = make_config(feeds=[{"name": "Northshire Gazette", "url": gazette},
                                {"name": "Harbourton Echo", "url": echo}], **sections(smtp_server))

    with open_monitor(config, clock=clock) as monitor:
        report = monitor.collect()
        assert any(note.startswith("Alerts: 1 new (1 from priority rules); 1 sent in 1 message by email")
                   for note in report.notes), report.notes
        alerts = rows(monitor, "SELECT * FROM alerts")
    assert len(alerts) == 1 and alerts[0]["kind"] == "rule" and alerts[0]["status"] == "sent"
    assert alerts[0]["rule"] == "Snapchat sextortion" and alerts[0]["sent_at"] == "2026-03-10T09:00:00Z"
    assert len(smtp_server.received) == 1
    mail = smtp_server.received[0].message
    subject = mail["Subject"]
    assert subject == 'Alert: Priority rule "Snapchat sextortion": new story'
    assert "Sextortion gang" not in subject  # never a collected title in a header
    text = mail.get_body(("plain",)).get_content()
    assert SEXTORTION[0] in text and "Northshire Gazette" in text
    assert "https://gazette.example/news/sextortion-gang" in text
    assert 'Matched rule "Snapchat sextortion": topic Sextortion; platform Snapchat.' in text
    assert "dog grooming" not in text.lower()
    html = mail.get_body(("html",)).get_content()
    assert 'href="https://gazette.example/news/sextortion-gang"' in html

    # the next cycle: a second outlet carries a syndicated copy of the same story
    clock.advance(minutes=30)
    copy = Entry(f"{SEXTORTION[0]} - Harbourton Echo", SEXTORTION[1], "https://echo.example/sextortion-gang",
                 T0 - timedelta(minutes=10))
    serve(server, "/echo.xml", "Harbourton Echo", [copy])
    with open_monitor(config, clock=clock) as monitor:
        report = monitor.collect()
        assert report.new == 1
        joined = rows(monitor, "SELECT cluster_id FROM items WHERE url = 'https://echo.example/sextortion-gang'")
        assert joined[0]["cluster_id"] is not None  # the copy joined the story's cluster
        assert "Alerts: none new" in report.notes
        assert len(rows(monitor, "SELECT * FROM alerts")) == 1

    # a restart, later: another cycle and a check of its own find nothing new to alert
    clock.advance(minutes=30)
    with open_monitor(config, clock=clock) as monitor:
        monitor.collect()
        again = monitor.run_alerts()
        assert again.created == [] and again.delivery.sent == []
        assert len(rows(monitor, "SELECT * FROM alerts")) == 1
    assert len(smtp_server.received) == 1


def test_a_story_several_rules_match_is_one_alert_naming_them(server: LocalServer, smtp_server, make_config) -> None:
    clock = Clock(T0)
    story = Entry(*SEXTORTION, "https://gazette.example/news/sextortion-gang", T0 - timedelta(minutes=40))
    gazette = serve(server, "/gazette.xml", "Northshire Gazette", [story])
    config = make_config(feeds=[{"name": "Northshire Gazette", "url": gazette}],
                         **sections(smtp_server, rules=[RULE, {"name": "Any sextortion", "topics": ["sextortion"]}]))
    with open_monitor(config, clock=clock) as monitor:
        monitor.collect()
        alerts = rows(monitor, "SELECT rule, title FROM alerts")
    assert alerts == [{"rule": "Snapchat sextortion, Any sextortion",
                       "title": 'Priority rules "Snapchat sextortion", "Any sextortion": new story'}]
    assert len(smtp_server.received) == 1


def test_webhook_rule_posts_slack_json_and_keeps_the_url_secret(server: LocalServer, webhook, make_config,
                                                                monkeypatch, caplog) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("TEST_ALERT_HOOK", webhook.url)
    clock = Clock(T0)
    hostile = Entry("<!channel> Sextortion gang targeted teenage boys on <b>Snapchat</b> & more",
                    SEXTORTION[1], "https://gazette.example/news/sextortion-gang", T0 - timedelta(minutes=40))
    gazette = serve(server, "/gazette.xml", "Northshire Gazette", [hostile])
    config = make_config(feeds=[{"name": "Northshire Gazette", "url": gazette}],
                         alerts={"rules": [{**RULE, "channel": "webhook"}], "spikes": False,
                                 "webhook_url_env": "TEST_ALERT_HOOK"})
    caplog.set_level("DEBUG", logger="monitor")
    with open_monitor(config, clock=clock) as monitor:
        webhook.status = 503  # the chat service is down for the first cycle
        report = monitor.collect()
        assert any("NOT SENT (webhook: the webhook answered HTTP 503" in note for note in report.notes)
        pending = rows(monitor, "SELECT status, attempts, last_error FROM alerts")
        assert pending == [{"status": "pending", "attempts": 1,
                            "last_error": "the webhook answered HTTP 503 Service Unavailable (service_unavailable)"}]
        webhook.status = 200
        clock.advance(minutes=30)
        monitor.collect()  # retried with the next cycle, once
        monitor.collect()
        sent = rows(monitor, "SELECT status, attempts FROM alerts")
    assert sent == [{"status": "sent", "attempts": 2}]
    assert len(webhook.received) == 1 and set(webhook.received[0]) == {"text"}
    text = webhook.received[0]["text"]
    assert text.startswith('*Priority rule "Snapchat sextortion": new story*')
    # Slack's control characters escaped: no mention, no injected link or markup
    assert "&lt;!channel&gt; Sextortion gang" in text and "<!channel>" not in text and "&amp; more" in text
    assert "secret-token" not in caplog.text and webhook.url not in caplog.text
    assert webhook.requests()[-1].headers["content-type"].startswith("application/json")


def test_switching_rules_on_never_alerts_the_history(tmp_path):
    """Only what was stored since the last check (the first check: the last hour) is alerted."""
    from monitor.app import Monitor
    from monitor.config import config_from_dict
    from monitor.store import open_store
    from tests.alerts.history import History

    path = tmp_path / "monitor.db"
    config = config_from_dict({"storage": {"path": str(path)},
                               "alerts": {"spikes": False, "source_health": False, "rules": [RULE]}})
    clock = Clock(T0)

    def story(title: str, hours_ago: float) -> None:
        collected = clock.now - timedelta(hours=hours_ago)
        history = History(path, collected, prefix=title[:5])
        history.add("Wirecast", collected, topics=["sextortion"], platforms=["snapchat"], title=title)
        history.flush()
        history.close()

    story("Old sextortion story", hours_ago=30)
    story("Fresh sextortion story", hours_ago=0.5)
    with Monitor(config, open_store(path), clock=clock) as app:
        assert len(app.run_alerts(send=False).created) == 1  # the fresh one only
        clock.advance(days=3)  # rules off for days (no check), then on again
        story("Story from the gap", hours_ago=30)
        story("Newest sextortion story", hours_ago=0.2)
        assert len(app.run_alerts(send=False).created) == 1
        listed = [r["items"] for r in rows(app, "SELECT items FROM alerts ORDER BY id")]
    assert listed == ['["Fresh000001"]', '["Newes000001"]']
