"""Which hours a digest covers and which digest is due: the clock rules, including the
days the clocks change and catch-up after downtime."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from monitor.config import DigestConfig
from monitor.digest import due_digest_date, end_of_day, latest_complete_day, window

UTC = timezone.utc
LONDON = DigestConfig(time="07:30", timezone="Europe/London")


def test_the_digest_for_a_date_covers_the_day_ending_that_morning():
    w = window(date(2026, 11, 28), LONDON)
    assert (w.start, w.end) == (datetime(2026, 11, 27, 7, 30, tzinfo=UTC), datetime(2026, 11, 28, 7, 30, tzinfo=UTC))
    summer = window(date(2026, 7, 1), LONDON)  # BST: 07:30 London is 06:30 UTC
    assert summer.end == datetime(2026, 7, 1, 6, 30, tzinfo=UTC)


def test_days_when_the_clocks_change_are_23_and_25_hours_long():
    spring = window(date(2026, 3, 29), LONDON)  # clocks go forward at 01:00 GMT on 29 March 2026
    autumn = window(date(2026, 10, 25), LONDON)  # and back at 01:00 GMT on 25 October
    assert spring.end - spring.start == timedelta(hours=23)
    assert autumn.end - autumn.start == timedelta(hours=25)
    assert spring.local_end.hour == 7 and autumn.local_end.hour == 7


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata",
                          "America/Santiago"]),
)
def test_consecutive_windows_neither_overlap_nor_leave_gaps(day, hour, minute, zone):
    config = DigestConfig(time=f"{hour:02d}:{minute:02d}", timezone=zone)
    today, tomorrow = window(day, config), window(day + timedelta(days=1), config)
    assert today.end == tomorrow.start
    assert timedelta(hours=22) <= today.end - today.start <= timedelta(hours=26)


def test_the_default_digest_is_the_latest_day_that_has_ended():
    assert latest_complete_day(datetime(2026, 11, 28, 7, 29, tzinfo=UTC), LONDON) == date(2026, 11, 27)
    assert latest_complete_day(datetime(2026, 11, 28, 7, 30, tzinfo=UTC), LONDON) == date(2026, 11, 28)
    assert latest_complete_day(datetime(2026, 11, 28, 23, 59, tzinfo=UTC), LONDON) == date(2026, 11, 28)
    # 00:30 UTC on 1 July is 01:30 BST: the day ending 07:30 on 1 July has not ended yet
    assert latest_complete_day(datetime(2026, 7, 1, 0, 30, tzinfo=UTC), LONDON) == date(2026, 6, 30)


def test_due_digest_date_sends_each_day_once_and_catches_up_within_the_grace_period():
    due = end_of_day(date(2026, 11, 28), LONDON)
    assert due_digest_date(due - timedelta(minutes=1), LONDON, date(2026, 11, 27), 6) is None  # not yet
    assert due_digest_date(due, LONDON, date(2026, 11, 27), 6) == date(2026, 11, 28)  # on time
    assert due_digest_date(due, LONDON, date(2026, 11, 28), 6) is None  # already sent
    # the service was down at 07:30 and is back at 10:00: today's digest is sent late
    assert due_digest_date(due + timedelta(hours=2.5), LONDON, date(2026, 11, 26), 6) == date(2026, 11, 28)
    # back at 16:00, past the grace period: too late for today's, and missed days are not sent
    assert due_digest_date(due + timedelta(hours=8.5), LONDON, date(2026, 11, 26), 6) is None
    assert due_digest_date(due, LONDON, None, 6) == date(2026, 11, 28)  # first digest ever
