"""Times read from untrusted input: anything out of range is one ValueError to catch."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from monitor.types import from_epoch, from_iso


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-13-01T00:00:00Z",
                                   "yesterday"])
def test_from_iso_refuses_times_out_of_range_with_a_value_error(value):
    with pytest.raises(ValueError):
        from_iso(value)


def test_from_iso_reads_times_in_any_zone_as_utc():
    assert from_iso("0001-01-01T00:00:00-01:00") == datetime(1, 1, 1, 1, tzinfo=timezone.utc)
    assert from_iso("2026-03-12T08:30:00.123456+01:00") == datetime(2026, 3, 12, 7, 30, 0, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize("seconds", [1e20, -1e20, 1e300])
def test_from_epoch_refuses_times_out_of_range_with_a_value_error(seconds):
    with pytest.raises(ValueError):
        from_epoch(seconds)
    assert from_epoch(1_700_000_000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
