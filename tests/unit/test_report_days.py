"""Local days of analytics reports in fixed-offset and DST zones (sets.domain.analytics)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sets.domain.actor import Actor
from sets.domain.analytics import (
    analytics_teams,
    date_of,
    day_number,
    local_day,
    report_window,
)
from sets.domain.enums import Role
from sets.domain.errors import ErrorCode, Forbidden, ValidationFailed


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_utc_window_is_whole_days() -> None:
    window = report_window(date(2026, 1, 1), date(2026, 1, 31), "UTC")
    assert (window.start, window.end) == (utc(2026, 1, 1), utc(2026, 2, 1))
    assert len(window.days) == 31
    assert [s.offset for s in window.segments] == [0]


def test_fixed_offset_zone() -> None:
    window = report_window(date(2026, 1, 5), date(2026, 1, 5), "Asia/Kolkata")  # +05:30
    assert (window.start, window.end) == (utc(2026, 1, 4, 18, 30), utc(2026, 1, 5, 18, 30))
    assert local_day(utc(2026, 1, 4, 18, 30), window.segments) == date(2026, 1, 5)
    assert local_day(utc(2026, 1, 4, 18, 29, 59), window.segments) == date(2026, 1, 4)


def test_spring_forward_day_has_23_hours() -> None:
    # Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST, i.e. at 01:00 UTC.
    window = report_window(date(2026, 3, 28), date(2026, 3, 30), "Europe/Berlin")
    assert window.start == utc(2026, 3, 27, 23)
    assert window.end == utc(2026, 3, 30, 22)
    assert [(s.until, s.offset) for s in window.segments] == [
        (utc(2026, 3, 29, 1), 3600),
        (None, 7200),
    ]
    cases = {
        utc(2026, 3, 28, 22, 59, 59): date(2026, 3, 28),
        utc(2026, 3, 28, 23): date(2026, 3, 29),  # local midnight, still CET
        utc(2026, 3, 29, 0, 59, 59): date(2026, 3, 29),
        utc(2026, 3, 29, 1): date(2026, 3, 29),  # 03:00 CEST
        utc(2026, 3, 29, 21, 59, 59): date(2026, 3, 29),  # 23:59:59 CEST
        utc(2026, 3, 29, 22): date(2026, 3, 30),
    }
    for instant, day in cases.items():
        assert local_day(instant, window.segments) == day, instant


def test_fall_back_day_has_25_hours() -> None:
    # America/New_York: 2026-11-01 02:00 EDT -> 01:00 EST, i.e. at 06:00 UTC.
    window = report_window(date(2026, 11, 1), date(2026, 11, 1), "America/New_York")
    assert window.end - window.start == timedelta(hours=25)
    assert local_day(utc(2026, 11, 1, 4), window.segments) == date(2026, 11, 1)
    assert local_day(utc(2026, 11, 2, 4, 59, 59), window.segments) == date(2026, 11, 1)


def test_midnight_that_does_not_exist() -> None:
    # America/Santiago 2022-09-11: clocks jumped from 00:00 to 01:00; the day starts then.
    day = report_window(date(2022, 9, 11), date(2022, 9, 11), "America/Santiago")
    assert day.start == utc(2022, 9, 11, 4)
    assert day.end - day.start == timedelta(hours=23)
    window = report_window(date(2022, 9, 10), date(2022, 9, 11), "America/Santiago")
    assert local_day(day.start, window.segments) == date(2022, 9, 11)
    assert local_day(day.start - timedelta(seconds=1), window.segments) == date(2022, 9, 10)


def test_a_year_of_segments_matches_zoneinfo_hour_by_hour() -> None:
    window = report_window(date(2026, 1, 1), date(2026, 12, 31), "Europe/London")
    assert len(window.segments) == 3
    tz = ZoneInfo("Europe/London")
    instant = window.start
    while instant < window.end:
        assert local_day(instant, window.segments) == instant.astimezone(tz).date()
        instant += timedelta(minutes=47)


def test_day_numbers() -> None:
    assert day_number(date(1970, 1, 2)) == 1
    assert date_of(day_number(date(2026, 1, 5))) == date(2026, 1, 5)


@pytest.mark.parametrize(
    ("first", "last", "zone", "field"),
    [
        (date(2026, 2, 1), date(2026, 1, 1), "UTC", "range"),
        (date(2025, 1, 1), date(2026, 1, 2), "UTC", "range"),
        (date(2026, 1, 1), date(2026, 1, 2), "Mars/Olympus", "timeZone"),
        (date(2026, 1, 1), date(2026, 1, 2), "America", "timeZone"),
    ],
)
def test_bad_windows(first: date, last: date, zone: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        report_window(first, last, zone)
    assert info.value.field == field


def test_who_sees_which_teams() -> None:
    admin = Actor(user_id=1, role=Role.ADMIN)
    manager = Actor(user_id=2, role=Role.MANAGER, team_ids=frozenset({10, 11}))
    agent = Actor(user_id=3, role=Role.AGENT, team_ids=frozenset({10}))
    requester = Actor(user_id=4, role=Role.REQUESTER)
    assert analytics_teams(admin, None) is None
    assert analytics_teams(admin, 99) == {99}
    assert analytics_teams(manager, None) == {10, 11}
    assert analytics_teams(manager, 11) == {11}
    for actor, team in ((manager, 12), (agent, None), (agent, 10), (requester, None)):
        with pytest.raises(Forbidden) as info:
            analytics_teams(actor, team)
        assert info.value.code is ErrorCode.FORBIDDEN
