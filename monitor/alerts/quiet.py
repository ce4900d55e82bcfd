"""Quiet hours: when alerts are held, and when the hold ends. Pure.

``"22:00-07:00"`` is local time in the digest's time zone and may span midnight. An
alert due inside quiet hours is held and sent when they end; one message then carries
everything held. Clock changes are handled by doing the arithmetic on local dates and
converting each end back to UTC (a 07:00 end is 07:00 on either side of a change).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def parse(spec: str) -> tuple[time, time] | None:
    """``"22:00-07:00"`` -> (22:00, 07:00); empty -> None. The config has validated it."""
    if not spec.strip():
        return None
    start, _, end = spec.partition("-")
    return _hhmm(start), _hhmm(end)


def _hhmm(value: str) -> time:
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, spec: str, tz: str) -> datetime | None:
    """The UTC moment the quiet period containing ``now`` ends, or None when ``now``
    is outside quiet hours (or there are none)."""
    span = parse(spec)
    if span is None:
        return None
    start, end = span
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    clock = local.time()
    if start < end:  # within one day, e.g. 12:00-14:00
        inside = start <= clock < end
        end_day = local.date()
    else:  # across midnight, e.g. 22:00-07:00
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(timezone.utc)
