"""Pure decisions about when a source is polled next.

No I/O and no clock of its own: every function takes ``now`` (and a random source for
jitter), returns a new :class:`FetchState`, and can be tested exhaustively. The
collection loop calls these and stores the result, so due times survive restarts.
"""

from __future__ import annotations

import dataclasses
import email.utils
import math
import random
import re
from datetime import datetime, timedelta, timezone
from typing import Mapping

from monitor.config import ScheduleConfig
from monitor.types import FetchState, from_iso

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def is_due(state: FetchState | None, now: datetime) -> bool:
    """A source is due when it was never polled, or its due time has come, and it is not gone."""
    if state is None:
        return True
    if state.gone_at is not None:
        return False
    return state.next_due_at is None or state.next_due_at <= now


def in_backoff(state: FetchState | None, now: datetime) -> bool:
    """True while a failing source (or one told to wait by the server) must be left alone."""
    if state is None or state.next_due_at is None:
        return False
    return state.failures > 0 and state.next_due_at > now


def http_date(value: str | None) -> datetime | None:
    """An HTTP-date header value (``Expires``, ``Retry-After``) as aware UTC, or None."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


def retry_after_seconds(value: object, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date).

    Accepts what servers and libraries hand over (a string, a number or None);
    anything unreadable is None, and a date in the past is 0.
    """
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        when = http_date(text)
        if when is None:
            return None
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def rate_limit_wait(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds until a rate-limited server takes requests again: ``Retry-After`` if
    sent, else the reset time of its rate-limit window (Mastodon's
    ``X-RateLimit-Reset``, an ISO time; Bluesky's ``RateLimit-Reset``, epoch seconds;
    the IETF draft's ``RateLimit-Reset``, seconds from now). None if none is usable."""
    lowered = {k.lower(): v for k, v in headers.items()}
    wait = retry_after_seconds(lowered.get("retry-after"), now)
    if wait is not None:
        return wait
    now = now or datetime.now(timezone.utc)
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        value = (lowered.get(name) or "").strip()
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                when = from_iso(value)
            except ValueError:
                continue
            return max(0.0, (when - now).total_seconds()) if when else None
        if not math.isfinite(number):
            continue
        if number > 1_000_000_000:  # an epoch time, not a delay
            return max(0.0, number - now.timestamp())
        return max(0.0, number)
    return None


def freshness_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """How long the server says its answer stays fresh (Cache-Control max-age, else Expires)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    cache_control = lowered.get("cache-control", "")
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        return None
    match = _MAX_AGE.search(cache_control)
    if match:
        return float(match.group(1))
    when = http_date(lowered.get("expires"))
    return None if when is None else max(0.0, (when - now).total_seconds())


def _jittered(seconds: float, config: ScheduleConfig, rng: random.Random) -> float:
    if config.jitter <= 0:
        return seconds
    return seconds * (1 + rng.uniform(-config.jitter, config.jitter))


def _clamp(seconds: float, config: ScheduleConfig) -> float:
    return min(max(seconds, config.min_interval_minutes * 60), config.max_interval_minutes * 60)


def next_interval(config: ScheduleConfig, fresh_for: float | None, interval_minutes: float | None = None) -> float:
    """Seconds until the next poll after a success: our interval, or longer if the
    server says its answer stays fresh longer, within [min_interval, max_interval]."""
    seconds = (interval_minutes or config.interval_minutes) * 60
    if fresh_for is not None:
        seconds = max(seconds, fresh_for)
    return _clamp(seconds, config)


def backoff_seconds(config: ScheduleConfig, failures: int, retry_after: float | None,
                    interval_minutes: float | None = None) -> float:
    """Exponential back-off after ``failures`` consecutive failures, capped, and never
    sooner than the server's Retry-After."""
    base = (interval_minutes or config.interval_minutes) * 60
    seconds = base * (2 ** max(0, failures - 1))
    seconds = min(seconds, config.backoff_cap_hours * 3600)
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, config.backoff_cap_hours * 3600))
    return max(seconds, config.min_interval_minutes * 60)


def after_success(
    state: FetchState,
    now: datetime,
    config: ScheduleConfig,
    *,
    headers: Mapping[str, str] | None = None,
    status: int = 200,
    new_items: int = 0,
    rng: random.Random | None = None,
    interval_minutes: float | None = None,
    **changes: object,
) -> FetchState:
    """The state after a successful poll (200 or 304): failures cleared, next due time set."""
    rng = rng or random.Random()
    fresh_for = freshness_seconds(headers or {}, now)
    wait = _jittered(next_interval(config, fresh_for, interval_minutes), config, rng)
    return dataclasses.replace(
        state,
        next_due_at=now + timedelta(seconds=wait),
        failures=0,
        last_status=status,
        last_error=None,
        last_attempt_at=now,
        last_success_at=now,
        last_new_at=now if new_items else state.last_new_at,
        **changes,  # type: ignore[arg-type]
    )


def after_failure(
    state: FetchState,
    now: datetime,
    config: ScheduleConfig,
    *,
    error: str,
    status: int | None = None,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    interval_minutes: float | None = None,
) -> FetchState:
    """The state after a failed poll: one more failure, backed off exponentially.

    A 410 Gone marks the source gone (no more polling until the config changes its URL);
    everything else is retried later, never silently dropped.
    """
    rng = rng or random.Random()
    failures = state.failures + 1
    if status == 410:
        return dataclasses.replace(
            state, failures=failures, last_status=status, last_error=error, last_error_at=now,
            last_attempt_at=now, next_due_at=None, gone_at=now,
        )
    wait = backoff_seconds(config, failures, retry_after, interval_minutes)
    if retry_after is None:
        wait = _jittered(wait, config, rng)
    return dataclasses.replace(
        state,
        failures=failures,
        last_status=status,
        last_error=error,
        last_error_at=now,
        last_attempt_at=now,
        next_due_at=now + timedelta(seconds=wait),
    )


def last_daily_time(now: datetime, at: str, tz: str) -> datetime:
    """The latest moment, at or before ``now``, when the local clock in ``tz`` read ``at`` (HH:MM); UTC.

    Daily jobs are due when they have not run since this moment, so a run missed while
    the service was down happens when it comes back, and only once.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    hour, minute = (int(part) for part in at.split(":"))
    local_now = now.astimezone(zone)
    for days_back in range(3):
        day = (local_now - timedelta(days=days_back)).date()
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(timezone.utc)
        if moment <= now:
            return moment
    raise AssertionError("unreachable: a daily time occurs within two days")


def daily_due(now: datetime, last_run: datetime | None, at: str, tz: str) -> bool:
    """True when a daily job at local ``at`` has not run since its latest scheduled moment."""
    return last_run is None or last_run < last_daily_time(now, at, tz)
