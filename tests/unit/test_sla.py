"""SLA due times and the next sweep moment (SPEC §4), round-the-clock calendar."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sets.domain.enums import Priority
from sets.domain.sla import DEFAULT_TARGETS, DueTimes, SlaTargets, due_times, next_check_at

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("priority", "first_response", "resolution"),
    [
        (Priority.P1, timedelta(minutes=15), timedelta(hours=2)),
        (Priority.P2, timedelta(hours=1), timedelta(hours=6)),
        (Priority.P3, timedelta(hours=4), timedelta(hours=24)),
        (Priority.P4, timedelta(hours=8), timedelta(hours=72)),
    ],
)
def test_default_due_times(
    priority: Priority, first_response: timedelta, resolution: timedelta
) -> None:
    due = due_times(T0, DEFAULT_TARGETS[priority])
    assert due.first_response_due_at == T0 + first_response
    assert due.resolution_due_at == T0 + resolution
    # Warning at 75 % of the resolution target elapsed.
    assert due.resolution_warning_at == T0 + resolution * 3 / 4


def test_every_priority_has_default_targets() -> None:
    assert set(DEFAULT_TARGETS) == set(Priority)


def test_p1_literal_moments() -> None:
    due = due_times(T0, DEFAULT_TARGETS[Priority.P1])
    assert due == DueTimes(
        first_response_due_at=datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
        resolution_due_at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
        resolution_warning_at=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
    )


def test_custom_warning_ratio() -> None:
    due = due_times(T0, SlaTargets(timedelta(hours=1), timedelta(hours=10), warning_ratio=0.5))
    assert due.resolution_warning_at == T0 + timedelta(hours=5)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_times(datetime(2026, 3, 2, 9, 0), DEFAULT_TARGETS[Priority.P3])


def test_other_zones_give_the_same_instants() -> None:
    local = T0.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert due_times(local, DEFAULT_TARGETS[Priority.P2]) == due_times(
        T0, DEFAULT_TARGETS[Priority.P2]
    )


# --- next_check_at --------------------------------------------------------------------------

P1_DUE = due_times(T0, DEFAULT_TARGETS[Priority.P1])  # response 9:15, warning 10:30, due 11:00


@pytest.mark.parametrize(
    ("first_responded", "warned", "breached", "expected"),
    [
        (False, False, False, P1_DUE.first_response_due_at),
        (False, True, True, P1_DUE.first_response_due_at),
        (True, False, False, P1_DUE.resolution_warning_at),
        (True, False, True, P1_DUE.resolution_warning_at),
        (True, True, False, P1_DUE.resolution_due_at),
        (True, True, True, None),
    ],
)
def test_next_check_is_the_earliest_pending_moment(
    first_responded: bool, warned: bool, breached: bool, expected: datetime | None
) -> None:
    got = next_check_at(
        P1_DUE,
        first_responded=first_responded,
        warned=warned,
        resolution_breached=breached,
        open_=True,
    )
    assert got == expected


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=3)))
def test_closed_tickets_need_no_check(flags: tuple[bool, bool, bool]) -> None:
    responded, warned, breached = flags
    assert (
        next_check_at(
            P1_DUE,
            first_responded=responded,
            warned=warned,
            resolution_breached=breached,
            open_=False,
        )
        is None
    )


def test_first_response_later_than_the_warning() -> None:
    # A policy whose first-response target is longer than 75 % of resolution.
    due = due_times(T0, SlaTargets(timedelta(hours=10), timedelta(hours=8)))
    got = next_check_at(
        due, first_responded=False, warned=False, resolution_breached=False, open_=True
    )
    assert got == T0 + timedelta(hours=6)
