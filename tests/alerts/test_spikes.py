"""Spikes against a stated baseline, on a synthetic 28-day history built here: a flat
series never alerts; a burst alerts once, stating its baseline; the cooldown holds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.alerts import spikes
from monitor.app import Monitor
from monitor.config import AlertsConfig, config_from_dict
from monitor.store import open_store
from tests.alerts.conftest import Clock
from tests.alerts.history import History
from tests.helpers import rows

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
OUTLETS = ["Wirecast", "Northshire Gazette", "The Daily Lantern", "Harbourton Echo", "Pacific Signal"]


def build_history(path: Path, now: datetime = NOW, created: datetime | None = None) -> None:
    """28 days of 6-hour windows: sextortion on Snapchat 1, 2, 3, 2 items per window in turn
    (mean 2.0, SD 0.7); grooming exactly 6 in every window, the current one too (flat,
    above spike_min_count); irrelevant items about abuse imagery now and then."""
    history = History(path, now, created)
    for k in range(1, 113):
        for j in range([1, 2, 3, 2][k % 4]):
            history.add(OUTLETS[j], now - k * 6 * H - H - j * H / 2, topics=["sextortion"], platforms=["snapchat"])
    for k in range(0, 113):
        for j in range(6):
            history.add(OUTLETS[j % 5], now - k * 6 * H - H - j * H / 2, topics=["grooming"])
    for j in range(10):  # a flood the tagger found irrelevant: never counted
        history.add("Wirecast", now - H - j * H / 10, topics=["csam"], relevant=False)
    history.flush()
    history.close()


def add_burst(path: Path, now: datetime, label: str) -> None:
    """14 relevant sextortion-on-Snapchat items in the last 3 hours: 5 stories, each carried
    by up to 3 outlets (a syndication cluster)."""
    history = History(path, now, prefix=f"burst-{label}-")
    for j in range(14):
        story = j % 5
        history.add(OUTLETS[j // 5 + story % 2], now - H / 2 - j * H / 5, topics=["sextortion"],
                    platforms=["snapchat"], title=f"Sextortion wave story {label}{story}",
                    cluster=f"burst-{label}{story}")
    history.flush()
    history.close()


def open_app(tmp_path: Path, clock: Clock, smtp_server, **alerts) -> Monitor:
    feeds = [{"name": name, "url": f"https://{name.lower().replace(' ', '')}.example/feed.xml"} for name in OUTLETS]
    config = config_from_dict({"storage": {"path": str(tmp_path / "monitor.db")}, "feeds": feeds,
                               "email": smtp_server.email_config(),
                               "alerts": {"source_health": False, **alerts}}, "test.toml")
    return Monitor(config, open_store(config.storage.path), clock=clock)


def test_a_burst_alerts_once_with_its_baseline_then_the_cooldown_holds(tmp_path, smtp_server):
    build_history(tmp_path / "monitor.db")
    clock = Clock(NOW)
    with open_app(tmp_path, clock, smtp_server) as app:
        assert app.run_alerts().created == []  # before the burst: the flat series and the noise say nothing
        add_burst(tmp_path / "monitor.db", NOW, "a")
        report = app.run_alerts()
        assert [a.title for a in report.created] == [
            "Spike: Snapchat + sextortion: 14 items in 6 h; usual 2.0 +/- 0.7 (5 stories)",
            "Spike: Sextortion: 14 items in 6 h; usual 2.0 +/- 0.7 (5 stories)",
        ]
        assert report.summary() == "Alerts: 2 new (2 spikes); 2 sent in 1 message by email"
        assert report.delivery.messages == [("email", 2)]
        recorded = rows(app, "SELECT series, detail, items, status FROM alerts ORDER BY series")
        assert [r["series"] for r in recorded] == ["sextortion", "sextortion+snapchat"]
        assert all(r["status"] == "sent" for r in recorded)
        assert '"mean": 2.0' in recorded[1]["detail"] and '"samples": 112' in recorded[1]["detail"]
        assert len(recorded[1]["items"].split(",")) == 5  # one item per story, not per copy

        # half an hour later the burst is still in the window: within the cooldown, no alert
        clock.advance(minutes=30)
        assert app.run_alerts().created == []
        clock.advance(hours=6)
        assert app.run_alerts().created == []

        # after the 12-hour cooldown a new burst alerts again; grooming, flat, never did
        clock.advance(hours=6)
        add_burst(tmp_path / "monitor.db", clock.now, "b")
        again = app.run_alerts()
        assert len(again.created) == 2
        assert not rows(app, "SELECT * FROM alerts WHERE series LIKE 'grooming%' OR series LIKE 'csam%'")

    assert len(smtp_server.received) == 2
    mail = smtp_server.received[0].message
    assert mail["Subject"].startswith("2 alerts: Spike: Snapchat + sextortion: 14 items in 6 h;")
    text = mail.get_body(("plain",)).get_content()
    assert "Spike: Snapchat + sextortion: 14 items in 6 h; usual 2.0 +/- 0.7 (5 stories)" in text
    assert ("Usual = the mean and standard deviation of the same 6-hour window over the previous 28 days"
            " (112 windows); an alert needs at least mean + 3 x SD = 4.1, and at least 5 items.") in text
    for story in range(5):
        assert text.count(f"Sextortion wave story a{story}") == 1  # listed under the first series only
    assert "5 of its stories are listed above." in text
    assert "carried by 3 outlets" in text


def test_no_spikes_before_a_week_of_history(tmp_path, smtp_server):
    """On a new installation every window before it began would read as zero."""
    build_history(tmp_path / "monitor.db", created=NOW - timedelta(days=3))
    add_burst(tmp_path / "monitor.db", NOW, "a")
    with open_app(tmp_path, Clock(NOW), smtp_server) as app:
        report = app.run_alerts()
    assert report.created == []
    assert "spikes wait for 7 days of history (3 so far)" in report.summary()
    assert smtp_server.received == []


# --- the statistics, on their own -----------------------------------------------------------

CONFIG = AlertsConfig()


@pytest.mark.parametrize("level", [0, 2, 5, 6, 40])
def test_a_flat_series_never_spikes(level):
    counts = {spikes.Series("grooming"): {k: level for k in range(113)}}
    assert spikes.detect(counts, 112, CONFIG) == []


def test_a_spike_needs_the_minimum_count_and_the_sigma_threshold():
    series = spikes.Series("sextortion", "snapchat")
    quiet = {k: 0 for k in range(1, 113)}
    assert spikes.detect({series: {0: 4, **quiet}}, 112, CONFIG) == []  # below spike_min_count
    found = spikes.detect({series: {0: 5, **quiet}}, 112, CONFIG)
    assert [s.sentence for s in found] == ["Snapchat + sextortion: 5 items in 6 h; usual 0.0 +/- 0.0"]
    noisy = {k: (0 if k % 2 else 6) for k in range(1, 113)}  # mean 3, SD 3: threshold 12
    assert spikes.detect({series: {0: 12, **noisy}}, 112, CONFIG) == []
    assert spikes.detect({series: {0: 13, **noisy}}, 112, CONFIG)[0].threshold == 12.0


def test_windows_are_the_same_length_back_over_the_baseline():
    spans = spikes.windows(NOW, 6, 28)
    assert len(spans) == 113 and spans[0] == (NOW - 6 * H, NOW) and spans[1] == (NOW - 12 * H, NOW - 6 * H)
    assert spans[-1][0] == NOW - timedelta(days=28, hours=6)
    assert spikes.usable_samples(spans, NOW - timedelta(days=3)) == 11
    assert not spikes.enough_history(11, spans) and spikes.enough_history(28, spans)


def test_cooldown():
    assert spikes.in_cooldown(NOW - 11 * H, NOW, 12)
    assert not spikes.in_cooldown(NOW - 12 * H, NOW, 12)
    assert not spikes.in_cooldown(None, NOW, 12)
