"""Business-hours calendar math: overnight and weekend gaps, DST both ways, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sets.domain.calendar import (
    ALWAYS_OPEN,
    BusinessCalendar,
    Opening,
    calendar_from_dict,
    calendar_to_dict,
)
from sets.domain.errors import ValidationFailed

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar(
    "Europe/Berlin",
    tuple(Opening(d, time(9), time(17)) for d in range(5)),
    frozenset({date(2026, 12, 25), date(2026, 12, 28)}),
)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_always_open_is_plain_addition() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert ALWAYS_OPEN.add(start, timedelta(hours=2)) == start + timedelta(hours=2)
    assert ALWAYS_OPEN.between(start, start + timedelta(hours=5)) == timedelta(hours=5)


def test_within_one_day() -> None:
    assert OFFICE.add(berlin(2026, 11, 23, 10), timedelta(hours=2)) == berlin(2026, 11, 23, 12)


def test_overnight_gap() -> None:
    # Monday 16:00 + 2 h: one hour on Monday, one on Tuesday morning.
    assert OFFICE.add(berlin(2026, 11, 23, 16), timedelta(hours=2)) == berlin(2026, 11, 24, 10)


def test_weekend_gap() -> None:
    assert OFFICE.add(berlin(2026, 11, 27, 16), timedelta(hours=2)) == berlin(2026, 11, 30, 10)


def test_created_outside_hours_starts_at_the_next_opening() -> None:
    assert OFFICE.add(berlin(2026, 11, 28, 13), timedelta(minutes=15)) == berlin(
        2026, 11, 30, 9, 15
    )


def test_ending_exactly_at_closing_time_is_closing_time() -> None:
    assert OFFICE.add(berlin(2026, 11, 23, 9), timedelta(hours=8)) == berlin(2026, 11, 23, 17)


def test_holidays_are_skipped() -> None:
    # Thu 24 Dec 16:00 + 2 h: Fri 25 is a holiday, then the weekend, Mon 28 a holiday too.
    assert OFFICE.add(berlin(2026, 12, 24, 16), timedelta(hours=2)) == berlin(2026, 12, 29, 10)


def test_dst_spring_forward_keeps_wall_clock_hours() -> None:
    night = BusinessCalendar("Europe/Berlin", tuple(Opening(d, time(0), time(6)) for d in range(7)))
    # 29 March 2026: clocks jump from 02:00 to 03:00, so that night has 5 open hours.
    start = berlin(2026, 3, 29, 0)
    assert night.between(start, berlin(2026, 3, 29, 6)) == timedelta(hours=5)
    assert night.add(start, timedelta(hours=5)) == berlin(2026, 3, 29, 6)


def test_dst_fall_back_gives_an_extra_hour() -> None:
    night = BusinessCalendar("Europe/Berlin", tuple(Opening(d, time(0), time(6)) for d in range(7)))
    # 25 October 2026: 03:00 falls back to 02:00, so that night has 7 open hours.
    start = berlin(2026, 10, 25, 0)
    assert night.between(start, berlin(2026, 10, 25, 6)) == timedelta(hours=7)
    assert night.add(start, timedelta(hours=7)) == berlin(2026, 10, 25, 6)


def test_office_hours_across_dst_change_keep_nine_to_five() -> None:
    # Friday 27 March 16:00 CET + 2 h lands on Monday 10:00 CEST.
    due = OFFICE.add(berlin(2026, 3, 27, 16), timedelta(hours=2))
    assert due == berlin(2026, 3, 30, 10)
    assert due.astimezone(BERLIN).utcoffset() == timedelta(hours=2)


def test_between_counts_only_open_time() -> None:
    assert OFFICE.between(berlin(2026, 11, 27, 16), berlin(2026, 11, 30, 10)) == timedelta(hours=2)
    assert OFFICE.between(berlin(2026, 11, 30, 10), berlin(2026, 11, 27, 16)) == timedelta(0)


def test_midnight_end_means_the_whole_evening() -> None:
    late = BusinessCalendar("UTC", (Opening(0, time(20), time(0)),))
    start = datetime(2026, 11, 23, 21, tzinfo=UTC)  # a Monday
    assert late.add(start, timedelta(hours=3)) == datetime(2026, 11, 24, 0, tzinfo=UTC)
    assert late.add(start, timedelta(hours=4)) == datetime(2026, 11, 30, 21, tzinfo=UTC)


def test_dict_round_trip_and_validation() -> None:
    data = {
        "timeZone": "Europe/Berlin",
        "hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
        "holidays": ["2026-12-25", "2026-12-28"],
    }
    assert calendar_from_dict(data) == OFFICE
    assert calendar_to_dict(OFFICE) == data
    assert calendar_from_dict(None) == ALWAYS_OPEN
    for bad in (
        {"timeZone": "Mars/Olympus"},
        {"hours": [{"weekday": 7, "start": "09:00", "end": "17:00"}]},
        {"hours": [{"weekday": 1, "start": "17:00", "end": "09:00"}]},
        {"hours": [{"weekday": 1, "start": "9h", "end": "17:00"}]},
        {
            "hours": [
                {"weekday": 1, "start": "09:00", "end": "13:00"},
                {"weekday": 1, "start": "12:00", "end": "17:00"},
            ]
        },
        {"holidays": ["25/12/2026"]},
    ):
        with pytest.raises(ValidationFailed):
            calendar_from_dict(bad)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=200 * 60).map(lambda m: timedelta(minutes=m))


@given(instants, durations, durations)
def test_due_time_is_monotonic_in_business_time(
    start: datetime, a: timedelta, b: timedelta
) -> None:
    small, large = sorted((a, b))
    assert OFFICE.add(start, small) <= OFFICE.add(start, large)


@given(instants, durations)
def test_add_and_between_agree(start: datetime, duration: timedelta) -> None:
    due = OFFICE.add(start, duration)
    assert OFFICE.between(start, due) == duration


@given(instants, durations)
def test_due_time_falls_in_open_hours(start: datetime, duration: timedelta) -> None:
    local = OFFICE.add(start, duration).astimezone(BERLIN)
    if duration > timedelta(0):
        assert local.weekday() < 5 and local.date() not in OFFICE.holidays
        assert time(9) < local.time() <= time(17) or local.time() == time(17)
