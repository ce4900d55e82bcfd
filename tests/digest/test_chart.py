"""The chart: a PNG sized for email when there is something to show, words when there is not."""

from __future__ import annotations

import struct
from datetime import date, timedelta

from monitor.app import Monitor
from monitor.config import config_from_dict
from monitor.digest.build import ChartData
from monitor.digest.chart import render_chart
from monitor.store import open_store
from tests.digest.scenario import NOW


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_chart_is_a_png_sized_for_email():
    days = tuple(date(2026, 11, 1) + timedelta(days=i) for i in range(28))
    chart = ChartData("topics", "Relevant items per day, by topic", days, tuple(i % 5 for i in range(28)),
                      (("Grooming", tuple(i % 3 for i in range(28))),), "alt", None)
    width, height = png_size(render_chart(chart))
    assert (width, height) == (936, 390)  # shown 624 px wide: sharp on high-density screens


def test_the_platform_chart_follows_the_configuration(newsroom_app):
    with newsroom_app(digest={"chart": "platforms"}) as app:
        built = app.build_digest()
    chart = built.digest.chart
    assert chart.kind == "platforms" and chart.title == "Grooming stories in the news naming each platform, per day"
    names = [name for name, _values in chart.series]
    assert names[0] == "Snapchat" and "Instagram" in names
    assert built.chart_png is not None and built.chart_path.exists()


def test_with_nothing_to_draw_the_digest_says_so(tmp_path):
    config = config_from_dict({"storage": {"path": str(tmp_path / "empty.db")},
                               "digest": {"archive_dir": str(tmp_path / "archive")},
                               "feeds": [{"name": "Gazette", "url": "https://gazette.test/feed"}]})
    with Monitor(config, open_store(config.storage.path), clock=lambda: NOW) as app:
        built = app.build_digest()
    reason = "No relevant items in the last 28 days, so there is no chart yet."
    assert built.chart_png is None and built.chart_path is None
    assert not (built.html_path.parent / "chart.png").exists()
    assert reason in built.html and "<img" not in built.html
    assert f"Chart: {reason}" in built.text
    assert "No relevant news stories in this day." in built.text
    assert built.subject == "Online child safety briefing, Sat 28 Nov 2026: no relevant items"


def test_a_rebuild_with_nothing_to_draw_removes_the_old_chart(newsroom_app):
    with newsroom_app() as app:
        first = app.build_digest()
        assert first.chart_path.exists()
        app.store.db.execute("UPDATE items SET deleted_at = '2026-11-28T07:00:00Z'")  # all deleted upstream
        app.store.db.conn.commit()
        second = app.build_digest()
    assert second.chart_path is None and not first.chart_path.exists()
    assert "No relevant items in the last 28 days" in second.html
