"""When sources are polled next: pure decisions, tested without a clock or a network."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from monitor.collect import select_sources
from monitor.config import ScheduleConfig
from monitor.schedule import after_failure, after_success, freshness_seconds, is_due
from monitor.types import FetchState, Source

NOW = datetime(2026, 11, 28, 7, 0, tzinfo=timezone.utc)
CONFIG = ScheduleConfig(interval_minutes=30, min_interval_minutes=10, max_interval_minutes=720, jitter=0.0,
                        backoff_cap_hours=24)


def test_new_source_is_due_and_success_schedules_the_interval():
    assert is_due(None, NOW)
    state = after_success(FetchState("feed:x"), NOW, CONFIG)
    assert state.next_due_at == NOW + timedelta(minutes=30) and state.failures == 0
    assert not is_due(state, NOW + timedelta(minutes=29)) and is_due(state, NOW + timedelta(minutes=30))


def test_cache_headers_lengthen_but_never_beyond_the_cap():
    assert freshness_seconds({"Cache-Control": "public, max-age=3600"}, NOW) == 3600
    assert freshness_seconds({"Expires": "Sat, 28 Nov 2026 09:00:00 GMT"}, NOW) == 7200
    long = after_success(FetchState("feed:x"), NOW, CONFIG, headers={"cache-control": "max-age=7200"})
    assert long.next_due_at == NOW + timedelta(hours=2)
    capped = after_success(FetchState("feed:x"), NOW, CONFIG, headers={"cache-control": "max-age=999999"})
    assert capped.next_due_at == NOW + timedelta(minutes=720)
    short = after_success(FetchState("feed:x"), NOW, CONFIG, headers={"cache-control": "max-age=5"})
    assert short.next_due_at == NOW + timedelta(minutes=30)


def test_failures_back_off_exponentially_to_a_cap_and_never_stop():
    state = FetchState("feed:x")
    waits = []
    for _ in range(10):
        state = after_failure(state, NOW, CONFIG, error="HTTP 500")
        waits.append((state.next_due_at - NOW).total_seconds() / 60)
    assert waits[:6] == [30, 60, 120, 240, 480, 960]
    assert max(waits) == 24 * 60 and state.gone_at is None and state.next_due_at is not None
    recovered = after_success(state, NOW, CONFIG)
    assert recovered.failures == 0 and recovered.last_error is None


def test_retry_after_is_honoured_and_410_stops_polling():
    state = after_failure(FetchState("feed:x"), NOW, CONFIG, error="429", status=429, retry_after=3 * 3600)
    assert state.next_due_at == NOW + timedelta(hours=3)
    gone = after_failure(FetchState("feed:x"), NOW, CONFIG, error="410", status=410)
    assert gone.gone_at == NOW and not is_due(gone, NOW + timedelta(days=30))


def test_jitter_spreads_due_times_within_bounds():
    config = ScheduleConfig(interval_minutes=30, jitter=0.1)
    rng = random.Random(1)
    dues = {after_success(FetchState("feed:x"), NOW, config, rng=rng).next_due_at for _ in range(50)}
    assert len(dues) > 10
    assert all(NOW + timedelta(minutes=27) <= d <= NOW + timedelta(minutes=33) for d in dues)


def test_select_sources_skips_backoff_and_gone_unless_forced():
    sources = [Source(f"feed:{n}", "feed", n) for n in ("a", "b", "c", "d")]
    states = {
        "feed:b": FetchState("feed:b", failures=2, next_due_at=NOW + timedelta(hours=1)),
        "feed:c": FetchState("feed:c", gone_at=NOW),
        "feed:d": FetchState("feed:d", next_due_at=NOW + timedelta(minutes=5)),
    }
    polled, skipped = select_sources(sources, states, NOW)
    assert [s.name for s in polled] == ["a", "d"]
    assert {s.name: reason.split(" ")[0] for s, reason in skipped} == {"b": "backing", "c": "gone"}
    polled, _ = select_sources(sources, states, NOW, scheduled=True)
    assert [s.name for s in polled] == ["a"]
    polled, _ = select_sources(sources, states, NOW, force=True)
    assert [s.name for s in polled] == ["a", "b", "d"]
