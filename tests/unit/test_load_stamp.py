"""A load run's `_loaded_at` stamp is strictly after every earlier run's, whatever the clock does.

Incremental dbt builds read rows stamped after their watermark (the newest stamp they saw), so a
later load that reused or went below an earlier stamp would never be transformed.
"""

from __future__ import annotations

from datetime import datetime

from shopdw.load.runner import load_stamp


def test_first_load_takes_the_clock_in_whole_seconds():
    assert load_stamp(None, datetime(2026, 11, 22, 3, 4, 5, 678)) == datetime(2026, 11, 22, 3, 4, 5)


def test_clock_ahead_of_the_newest_stamp_is_used():
    assert load_stamp(datetime(2026, 11, 22, 3, 0, 0), datetime(2026, 11, 22, 3, 4, 5)) == datetime(
        2026, 11, 22, 3, 4, 5
    )


def test_two_loads_in_the_same_second_get_different_stamps():
    newest = datetime(2026, 11, 22, 3, 4, 5)
    assert load_stamp(newest, datetime(2026, 11, 22, 3, 4, 5, 999_000)) == datetime(2026, 11, 22, 3, 4, 6)


def test_a_clock_that_went_back_still_stamps_after_the_newest():
    newest = datetime(2026, 11, 22, 3, 4, 5)
    assert load_stamp(newest, datetime(2026, 11, 22, 2, 0, 0)) == datetime(2026, 11, 22, 3, 4, 6)
