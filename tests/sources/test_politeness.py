"""Collection under load and fault: concurrency bounds, redirects, 410, Retry-After,
and broken responses, each against a real local server."""

from __future__ import annotations

import threading
import time

from monitor.demo.server import Reply, static
from tests.conftest import DATA
from tests.helpers import open_app, rows

FEED = (DATA / "feeds" / "ours_rss20.xml").read_bytes()


def feed_with(guid: str) -> bytes:
    return (f'<rss version="2.0"><channel><title>t</title><item><title>Item {guid}</title>'
            f"<link>https://x.test/{guid}</link><guid isPermaLink='false'>{guid}</guid></item></channel></rss>").encode()


class Gauge:
    """Counts requests in flight at the server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def wrap(self, body: bytes, delay: float):
        def route(_request):
            with self.lock:
                self.current += 1
                self.peak = max(self.peak, self.current)
            time.sleep(delay)
            with self.lock:
                self.current -= 1
            return Reply(200, {"Content-Type": "application/rss+xml"}, body)
        return route


def test_requests_per_host_and_in_total_are_bounded(server, make_config):
    gauge = Gauge()
    feeds = [{"name": f"f{i}", "url": server.route(f"/f{i}.xml", gauge.wrap(feed_with(f"g{i}"), 0.3))}
             for i in range(8)]
    with open_app(make_config, feeds=feeds, http={"concurrency": 10, "per_host": 3}) as monitor:
        report = monitor.collect()
    assert report.count("ok") == 8
    assert gauge.peak == 3  # all on 127.0.0.1: the per-host bound holds
    gauge.peak = 0
    with open_app(make_config, feeds=feeds, http={"concurrency": 2, "per_host": 8}) as monitor:
        monitor.collect(force=True)
    assert gauge.peak == 2  # the total bound holds


def test_a_slow_host_does_not_hold_up_the_others(server, make_config):
    slow = server.route("/slow.xml", lambda _r: Reply(200, {}, feed_with("slow"), delay=2.0))
    fast = [{"name": f"fast{i}", "url": server.route(f"/fast{i}.xml", static(feed_with(f"f{i}")))} for i in range(5)]
    finished: list[str] = []
    with open_app(make_config, feeds=[{"name": "slow", "url": slow}, *fast]) as monitor:
        monitor.collect(on_result=lambda r: finished.append(r.source.name))
    assert finished[-1] == "slow" and set(finished[:-1]) == {f"fast{i}" for i in range(5)}


def test_permanent_redirect_updates_the_stored_url_and_temporary_does_not(server, make_config):
    server.route("/new.xml", static(FEED))
    server.route("/old.xml", lambda _r: Reply(301, {"Location": "/new.xml"}))
    server.route("/moving.xml", lambda _r: Reply(307, {"Location": "/new.xml"}))
    feeds = [{"name": "moved", "url": server.url("/old.xml")}, {"name": "temp", "url": server.url("/moving.xml")}]
    with open_app(make_config, feeds=feeds) as monitor:
        monitor.collect()
        state = {r["source_id"]: r["url"] for r in rows(monitor, "SELECT source_id, url FROM fetch_state")}
        assert state["feed:moved"] == server.url("/new.xml")
        assert state["feed:temp"] is None
        before = len(server.requests_to("/old.xml"))
        monitor.collect(force=True)
        assert len(server.requests_to("/old.xml")) == before  # the next poll goes straight to the new URL
        assert len(server.requests_to("/moving.xml")) == 2


def test_410_gone_stops_polling_and_says_so(server, make_config, caplog):
    url = server.route("/gone.xml", lambda _r: Reply(410, {}, b""))
    with open_app(make_config, feeds=[{"name": "Gone feed", "url": url}]) as monitor:
        first = monitor.collect().results[0]
        assert first.status == "failed" and "410 Gone" in first.error
        second = monitor.collect(force=True).results[0]
        assert second.status == "skipped" and second.error.startswith("gone")
        assert len(server.requests_to("/gone.xml")) == 1
    assert any("no longer polled" in r.getMessage() for r in caplog.records)


def test_retry_after_is_kept_in_fetch_state_across_restarts(server, make_config):
    url = server.route("/busy.xml", lambda _r: Reply(429, {"Retry-After": "7200"}, b"slow down"))
    config = make_config(feeds=[{"name": "busy", "url": url}])
    from monitor.app import open_monitor

    with open_monitor(config) as monitor:
        result = monitor.collect().results[0]
        assert result.http_status == 429
        due = rows(monitor, "SELECT next_due_at, last_attempt_at FROM fetch_state")[0]
    from monitor.types import from_iso

    assert (from_iso(due["next_due_at"]) - from_iso(due["last_attempt_at"])).total_seconds() >= 7200
    with open_monitor(config) as monitor:  # a restart does not hammer the server
        again = monitor.collect().results[0]
        assert again.status == "skipped" and "backing off" in again.error
    assert len(server.requests_to("/busy.xml")) == 1


def test_broken_responses_are_one_clear_line_each_and_the_rest_lands(server, make_config, caplog):
    bodies = {
        "truncated": b'<?xml version="1.0"?><rss version="2.0"><channel><title>cut',
        "not-xml": b"\x89PNG\r\n\x1a\n binary nonsense",
        "empty": b"",
        "html": b"<!DOCTYPE html><html><body><h1>Welcome to our site</h1></body></html>",
        "entities": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss version="2.0"><channel><title>&a;</title></channel></rss>',
    }
    feeds = [{"name": name, "url": server.route(f"/{name}.xml", static(body))} for name, body in bodies.items()]
    feeds.append({"name": "good", "url": server.route("/good.xml", static(FEED))})
    with open_app(make_config, feeds=feeds) as monitor:
        report = monitor.collect()
        assert {r.source.name for r in report.results if r.status == "failed"} == set(bodies)
        assert monitor.store.count_items() == 4
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == len(bodies)
    by_source = {m.split(":", 1)[0]: m for m in errors}
    assert "HTML page" in by_source["html"]
    assert "empty response" in by_source["empty"]
    assert "declares XML entities" in by_source["entities"]
    assert "broken XML" in by_source["truncated"]
    assert all("\n" not in m for m in errors)


def test_queueing_behind_other_sources_never_counts_against_a_source(server, make_config):
    """Four feeds on one host, one request at a time, each answering in 1 s: the last
    waits 3 s for its turn, longer than a source may take; it is not failed for that."""
    from monitor.collect import Collection
    from monitor.sources.feeds import FeedCollector

    feeds = [{"name": f"f{i}", "url": server.route(f"/q{i}.xml", lambda _r, i=i: Reply(
        200, {"Content-Type": "application/rss+xml"}, feed_with(f"q{i}"), delay=1.0))} for i in range(4)]
    with open_app(make_config, feeds=feeds, http={"per_host": 1, "concurrency": 4}) as monitor:
        collection = Collection(monitor.config, monitor.store, [FeedCollector()], tag=monitor.tag, deadline=2.5)
        report = collection.run(monitor.sources)
    assert [r.status for r in report.results] == ["ok"] * 4


def test_a_busy_host_does_not_hold_slots_other_hosts_could_use(server, make_config):
    """Sources queued for a busy host wait for that host, not for the total: a feed on
    another host starts at once even though the busy host's queue is long."""
    busy = [{"name": f"busy{i}", "url": server.route(f"/b{i}.xml", lambda _r, i=i: Reply(
        200, {}, feed_with(f"b{i}"), delay=1.0))} for i in range(4)]
    other_host = server.url("/other.xml").replace("127.0.0.1", "localhost")
    server.route("/other.xml", lambda _r: Reply(200, {}, feed_with("other")))
    finished: list[str] = []
    with open_app(make_config, feeds=[*busy, {"name": "other", "url": other_host}],
                  http={"per_host": 1, "concurrency": 2}) as monitor:
        monitor.collect(on_result=lambda r: finished.append(r.source.name))
    assert finished[0] == "other"  # it never waited for the busy host


def test_sources_the_cycle_deadline_reaches_before_they_start_stay_due(server, make_config):
    feeds = [{"name": f"slow{i}", "url": server.route(f"/s{i}.xml", lambda _r, i=i: Reply(
        200, {}, feed_with(f"s{i}"), delay=2.0))} for i in range(3)]
    with open_app(make_config, feeds=feeds, http={"per_host": 1, "concurrency": 1}) as monitor:
        report = monitor.collect(cycle_deadline=3.0)
        status = {r.source.name: r.status for r in report.results}
        assert status == {"slow0": "ok", "slow1": "failed", "slow2": "skipped"}
        states = {r["source_id"]: r for r in rows(monitor, "SELECT source_id, failures, next_due_at FROM fetch_state")}
        assert states["feed:slow2"]["failures"] == 0 and states["feed:slow2"]["next_due_at"] is None  # still due
        assert states["feed:slow1"]["failures"] == 1


def test_an_unexpected_error_in_one_source_is_recorded_and_backed_off(server, make_config):
    feeds = [{"name": "boom", "url": server.route("/boom.xml", static(feed_with("boom")))},
             {"name": "fine", "url": server.route("/fine.xml", static(feed_with("fine")))}]

    def tag(items):
        if any("boom" in item.title for item in items):
            raise RuntimeError("tagger fell over")
        return {}

    from monitor.app import open_monitor

    with open_monitor(make_config(feeds=feeds), tag=tag) as monitor:
        import pytest

        with pytest.raises(RuntimeError):
            monitor.collect()
        states = {r["source_id"]: r for r in rows(monitor, "SELECT source_id, failures, last_error FROM fetch_state")}
        assert states["feed:boom"]["failures"] == 1 and "tagger fell over" in states["feed:boom"]["last_error"]
        assert states["feed:fine"]["failures"] == 0
        again = monitor.collect()  # the broken source backs off; the cycle no longer fails
        assert {r.source.name: r.status for r in again.results}["boom"] == "skipped"


def test_a_source_with_its_own_interval_is_polled_less_often_than_the_rest(server, make_config):
    from datetime import datetime, timedelta, timezone

    from monitor.app import open_monitor

    weekly = server.route("/weekly.xml", static(feed_with("w1")))
    daily = server.route("/daily.xml", static(feed_with("d1")))
    config = make_config(feeds=[{"name": "weekly blog", "url": weekly, "interval_minutes": 240},
                                {"name": "daily paper", "url": daily}],
                         schedule={"interval_minutes": 30, "min_interval_minutes": 10})
    now = [datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)]
    with open_monitor(config, clock=lambda: now[0]) as monitor:
        monitor.collect(scheduled=True)
        due = {r["source_id"]: r["next_due_at"] for r in rows(monitor, "SELECT source_id, next_due_at FROM fetch_state")}
        assert due == {"feed:weekly-blog": "2026-12-01T13:00:00Z", "feed:daily-paper": "2026-12-01T09:30:00Z"}
        now[0] += timedelta(hours=1)  # the service's next ticks poll only what is due
        assert [r.status for r in monitor.collect(scheduled=True).results] == ["skipped", "not_modified"]
    assert len(server.requests_to("/weekly.xml")) == 1 and len(server.requests_to("/daily.xml")) == 2


def test_a_bad_interval_names_its_key(make_config):
    import pytest

    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match=r"feeds\[0\]\.interval_minutes"):
        make_config(feeds=[{"name": "x", "url": "https://x.test/f.xml", "interval_minutes": -5}])


def test_retry_after_on_a_503_sets_the_back_off_in_fetch_state(server, make_config):
    """Retry-After is not only for 429: a server down for maintenance that says "come
    back in two hours" is left alone for two hours, longer than our own back-off."""
    import email.utils
    from datetime import datetime, timedelta, timezone

    from monitor.schedule import http_date
    from monitor.types import from_iso

    in_three_hours = datetime.now(timezone.utc) + timedelta(hours=3)
    server.route("/maintenance.xml", lambda _r: Reply(503, {"Retry-After": "7200"}, b"down for maintenance"))
    server.route("/dated.xml", lambda _r: Reply(503, {"Retry-After": email.utils.format_datetime(
        in_three_hours, usegmt=True)}, b"back later"))
    feeds = [{"name": "maintenance", "url": server.url("/maintenance.xml")},
             {"name": "dated", "url": server.url("/dated.xml")},
             {"name": "good", "url": server.route("/good.xml", static(FEED))}]
    with open_app(make_config, feeds=feeds) as monitor:  # back-off after one failure: 30 minutes
        report = monitor.collect()
        status = {r.source.name: (r.status, r.http_status) for r in report.results}
        assert status == {"maintenance": ("failed", 503), "dated": ("failed", 503), "good": ("ok", 200)}
        states = {r["source_id"]: r for r in rows(
            monitor, "SELECT source_id, failures, last_status, next_due_at, last_attempt_at FROM fetch_state")}
        maintenance = states["feed:maintenance"]
        assert maintenance["failures"] == 1 and maintenance["last_status"] == 503
        waited = from_iso(maintenance["next_due_at"]) - from_iso(maintenance["last_attempt_at"])
        assert waited == timedelta(seconds=7200)  # the server's wait, exactly: no jitter on top
        dated_due = from_iso(states["feed:dated"]["next_due_at"])
        assert abs((dated_due - http_date(email.utils.format_datetime(in_three_hours, usegmt=True))
                    ).total_seconds()) < 5
        again = {r.source.name: r for r in monitor.collect().results}
        assert again["maintenance"].status == "skipped" and "backing off" in again["maintenance"].error
        assert again["dated"].status == "skipped"
    assert len(server.requests_to("/maintenance.xml")) == 1 and len(server.requests_to("/dated.xml")) == 1


def test_a_gone_source_is_polled_again_once_its_configured_url_changes(server, make_config):
    server.route("/gone.xml", lambda _r: Reply(410, {}, b""))
    server.route("/moved-here.xml", static(FEED))
    with open_app(make_config, feeds=[{"name": "Gazette", "url": server.url("/gone.xml")}]) as monitor:
        assert monitor.collect().results[0].status == "failed"
        assert monitor.collect(force=True).results[0].status == "skipped"  # gone: not polled
        assert rows(monitor, "SELECT gone_at FROM fetch_state")[0]["gone_at"] is not None
    with open_app(make_config, feeds=[{"name": "Gazette", "url": server.url("/gone.xml")}]) as monitor:
        assert monitor.collect().results[0].status == "skipped"  # a restart alone changes nothing
    # the operator fixes the URL in the config: the next cycle polls it
    with open_app(make_config, feeds=[{"name": "Gazette", "url": server.url("/moved-here.xml")}]) as monitor:
        result = monitor.collect().results[0]
        assert result.status == "ok" and result.new == 4
        state = rows(monitor, "SELECT gone_at, failures FROM fetch_state")[0]
        assert state == {"gone_at": None, "failures": 0}
    assert len(server.requests_to("/gone.xml")) == 1 and len(server.requests_to("/moved-here.xml")) == 1
