"""Quiet hours hold alerts and release them once, when they end, in one message."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from monitor.alerts.quiet import quiet_until
from monitor.app import Monitor
from monitor.config import config_from_dict
from monitor.store import open_store
from tests.alerts.conftest import Clock
from tests.alerts.history import History
from tests.helpers import rows

UTC = timezone.utc
LONDON = "Europe/London"


def test_alerts_in_quiet_hours_are_held_and_released_once(tmp_path, webhook, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("TEST_ALERT_HOOK", webhook.url)
    path = tmp_path / "monitor.db"
    config = config_from_dict({
        "storage": {"path": str(path)}, "digest": {"timezone": LONDON},
        "alerts": {"quiet_hours": "22:00-07:00", "spikes": False, "source_health": False, "channel": "webhook",
                   "webhook_url_env": "TEST_ALERT_HOOK",
                   "rules": [{"name": "Snapchat", "platforms": ["snapchat"], "channel": "webhook"}]}}, "test.toml")
    clock = Clock(datetime(2026, 6, 1, 22, 30, tzinfo=UTC))  # 23:30 in London (BST)

    def story(title: str) -> None:  # a relevant story naming Snapchat, collected now
        history = History(path, clock.now, prefix=title[:6])
        history.add("Wirecast", clock.now, topics=["grooming"], platforms=["snapchat"], title=title)
        history.flush()
        history.close()

    with Monitor(config, open_store(path), clock=clock) as app:
        story("Late story about Snapchat")
        late = app.run_alerts()
        assert len(late.created) == 1 and late.delivery.held == 1
        assert late.summary() == ("Alerts: 1 new (1 from priority rules); 1 held for quiet hours until"
                                  " 2026-06-02 06:00 UTC")
        clock.advance(hours=3, minutes=30)  # 03:00 in London: another story, held too
        story("Night story about Snapchat")
        assert app.run_alerts().delivery.held == 2
        assert webhook.received == []
        assert [r["status"] for r in rows(app, "SELECT status FROM alerts")] == ["pending", "pending"]

        clock.advance(hours=4, minutes=10)  # 07:10 in London: both go, in one message
        released = app.run_alerts()
        assert released.delivery.messages == [("webhook", 2)] and released.delivery.held == 0
        clock.advance(minutes=30)
        assert app.run_alerts().delivery.sent == []  # released once
    assert len(webhook.received) == 1
    text = webhook.received[0]["text"]
    assert "Late story about Snapchat" in text and "Night story about Snapchat" in text


@pytest.mark.parametrize("now, expected", [
    (datetime(2026, 1, 15, 21, 59, tzinfo=UTC), None),  # 21:59 GMT: not yet
    (datetime(2026, 1, 15, 22, 0, tzinfo=UTC), datetime(2026, 1, 16, 7, 0, tzinfo=UTC)),
    (datetime(2026, 1, 16, 3, 0, tzinfo=UTC), datetime(2026, 1, 16, 7, 0, tzinfo=UTC)),  # after midnight
    (datetime(2026, 1, 16, 7, 0, tzinfo=UTC), None),  # the end is not quiet any more
    (datetime(2026, 7, 1, 21, 30, tzinfo=UTC), datetime(2026, 7, 2, 6, 0, tzinfo=UTC)),  # 22:30 BST -> 07:00 BST
    # the night the clocks go forward (29 March 2026, 01:00 GMT -> 02:00 BST): 07:00 BST is 06:00 UTC
    (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
])
def test_quiet_hours_across_midnight_in_local_time(now, expected):
    assert quiet_until(now, "22:00-07:00", LONDON) == expected


def test_quiet_hours_within_a_day_and_none():
    noon = datetime(2026, 1, 15, 12, 30, tzinfo=UTC)
    assert quiet_until(noon, "12:00-14:00", LONDON) == datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
    assert quiet_until(noon, "13:00-14:00", LONDON) is None
    assert quiet_until(noon, "", LONDON) is None
