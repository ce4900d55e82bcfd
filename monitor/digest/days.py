"""Which hours a digest covers, and which digest is due: pure functions of the clock.

The digest for date D covers the day that *ends* on the morning of D at the configured
time: ``[D-1 at time, D at time)`` in the configured time zone, converted to UTC for
the queries (``published_at`` is stored in UTC). The 07:30 digest of Friday 28
November therefore reports what was published from Thursday 07:30 to Friday 07:30.
On the days the clocks change the window is 23 or 25 hours long; a configured time
that does not exist that morning (inside the spring-forward gap) is read with the
offset in force before the change, one that occurs twice (autumn) as the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from monitor.config import DigestConfig


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def day_end_time(config: DigestConfig) -> time:
    hours, minutes = config.time.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Window:
    """The hours one digest covers: ``[start, end)`` in UTC, for local date ``day``."""

    day: date
    start: datetime
    end: datetime
    timezone: str

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(zone(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(zone(self.timezone))


def end_of_day(day: date, config: DigestConfig) -> datetime:
    """When the digest day ``day`` ends (the digest's due time), in UTC."""
    local = datetime.combine(day, day_end_time(config), tzinfo=zone(config.timezone))
    return local.astimezone(timezone.utc)


def window(day: date, config: DigestConfig) -> Window:
    return Window(day, end_of_day(day - timedelta(days=1), config), end_of_day(day, config), config.timezone)


def windows(day: date, count: int, config: DigestConfig) -> list[Window]:
    """``count`` consecutive windows ending with ``day``'s, oldest first."""
    return [window(day - timedelta(days=back), config) for back in range(count - 1, -1, -1)]


def latest_complete_day(now: datetime, config: DigestConfig) -> date:
    """The newest date whose digest day has ended at ``now``: the default digest to build."""
    today = now.astimezone(zone(config.timezone)).date()
    return today if end_of_day(today, config) <= now else today - timedelta(days=1)


def due_digest_date(now: datetime, config: DigestConfig, last_sent: date | None, grace_hours: float) -> date | None:
    """The date whose digest should be sent at ``now``, or None if nothing is due.

    Only the newest complete day is ever due: after downtime the service sends that
    day's digest late if ``now`` is within ``grace_hours`` of its due time, and never
    sends older missed days (yesterday's news is in today's 7- and 28-day figures).
    Nothing is due once that date (or a later one) has been sent.
    """
    day = latest_complete_day(now, config)
    if last_sent is not None and last_sent >= day:
        return None
    if now - end_of_day(day, config) > timedelta(hours=grace_hours):
        return None
    return day
