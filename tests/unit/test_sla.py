"""The SLA clock: deadlines, what a sweep must do at a moment, pauses, escalation levels."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sets.domain.calendar import BusinessCalendar, Opening
from sets.domain.enums import Priority, TicketStatus
from sets.domain.sla import (
    DEFAULT_POLICIES,
    DueStep,
    SlaState,
    StepKind,
    deadlines,
    due_steps,
    next_check_at,
    restart_clock,
    stop_clock,
)

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
P1 = DEFAULT_POLICIES[Priority.P1]
RESPONDED = SlaState(created_at=T, first_responded=True)


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


@pytest.mark.parametrize(
    ("priority", "first_response", "resolution"),
    [
        (Priority.P1, timedelta(minutes=15), h(2)),
        (Priority.P2, h(1), h(6)),
        (Priority.P3, h(4), h(24)),
        (Priority.P4, h(8), h(72)),
    ],
)
def test_spec_default_targets(
    priority: Priority, first_response: timedelta, resolution: timedelta
) -> None:
    due = deadlines(SlaState(created_at=T), DEFAULT_POLICIES[priority])
    assert due.first_response_due_at == T + first_response
    assert due.resolution_due_at == T + resolution
    assert due.warning_at == T + resolution * 0.75
    assert due.escalations == (
        (1, T + resolution),
        (2, T + resolution * 1.5),
        (3, T + resolution * 2),
    )


def kinds(steps: list[DueStep]) -> list[tuple[str, int | None]]:
    return [(s.kind.value, s.level) for s in steps]


def test_p1_timeline_step_by_step() -> None:
    state = RESPONDED
    assert due_steps(state, P1, T + h(1.49)) == []
    assert next_check_at(state, P1) == T + h(1.5)
    assert kinds(due_steps(state, P1, T + h(1.5))) == [("RESOLUTION_WARNING", None)]
    state = replace(state, warned=True)
    assert next_check_at(state, P1) == T + h(2)
    assert kinds(due_steps(state, P1, T + h(2))) == [
        ("RESOLUTION_BREACH", None),
        ("ESCALATION", 1),
    ]
    state = replace(state, resolution_breached=True, escalation_level=1)
    assert next_check_at(state, P1) == T + h(3)
    assert kinds(due_steps(state, P1, T + h(3))) == [("ESCALATION", 2)]
    state = replace(state, escalation_level=2)
    assert kinds(due_steps(state, P1, T + h(4))) == [("ESCALATION", 3)]
    state = replace(state, escalation_level=3)
    assert next_check_at(state, P1) is None
    assert due_steps(state, P1, T + h(100)) == []


def test_a_late_sweep_catches_up_without_a_warning_after_the_breach() -> None:
    assert kinds(due_steps(RESPONDED, P1, T + h(4))) == [
        ("RESOLUTION_BREACH", None),
        ("ESCALATION", 1),
        ("ESCALATION", 2),
        ("ESCALATION", 3),
    ]


def test_first_response_breach_is_tracked_on_its_own() -> None:
    fresh = SlaState(created_at=T)
    assert next_check_at(fresh, P1) == T + timedelta(minutes=15)
    assert due_steps(fresh, P1, T + timedelta(minutes=15)) == [
        DueStep(StepKind.FIRST_RESPONSE_BREACH, T + timedelta(minutes=15))
    ]
    breached = replace(fresh, first_response_breached=True)
    assert next_check_at(breached, P1) == T + h(1.5)


def test_manual_escalation_is_not_repeated_by_the_sweep() -> None:
    manual = replace(RESPONDED, warned=True, escalation_level=2)
    assert kinds(due_steps(manual, P1, T + h(2))) == [("RESOLUTION_BREACH", None)]
    breached = replace(manual, resolution_breached=True)
    assert next_check_at(breached, P1) == T + h(4)


def test_a_stopped_clock_has_nothing_due() -> None:
    stopped = stop_clock(RESPONDED, T + h(1))
    assert due_steps(stopped, P1, T + h(10)) == []
    assert next_check_at(stopped, P1) is None
    assert stop_clock(stopped, T + h(2)) == stopped  # stopping twice keeps the first moment


def test_paused_time_pushes_every_due_time_out() -> None:
    paused = stop_clock(RESPONDED, T + h(0.5))
    resumed = restart_clock(paused, P1, T + h(1.5))
    assert resumed.stopped_since is None and resumed.stopped_for == h(1)
    due = deadlines(resumed, P1)
    assert due.resolution_due_at == T + h(3)
    assert due.warning_at == T + h(2.5)
    assert due.escalations[0] == (1, T + h(3))
    again = restart_clock(stop_clock(resumed, T + h(2)), P1, T + h(2.5))
    assert deadlines(again, P1).resolution_due_at == T + h(3.5)
    assert restart_clock(resumed, P1, T + h(9)) == resumed  # not stopped: nothing to add


def test_pauses_count_in_business_time() -> None:
    office = BusinessCalendar("UTC", tuple(Opening(d, time(9), time(17)) for d in range(5)))
    policy = replace(P1, calendar=office)
    # Paused Friday 16:00 to Monday 10:00: two open hours stood still.
    created = datetime(2026, 3, 6, 15, tzinfo=UTC)
    state = stop_clock(SlaState(created_at=created, first_responded=True), created + h(1))
    state = restart_clock(state, policy, datetime(2026, 3, 9, 10, tzinfo=UTC))
    assert state.stopped_for == h(2)
    # 2 h target + 2 h paused = 4 open hours from Friday 15:00: Monday 11:00.
    assert deadlines(state, policy).resolution_due_at == datetime(2026, 3, 9, 11, tzinfo=UTC)


def test_a_priority_change_mid_flight_measures_from_creation() -> None:
    p3 = DEFAULT_POLICIES[Priority.P3]
    state = restart_clock(stop_clock(RESPONDED, T + h(1)), p3, T + h(2))
    assert deadlines(state, p3).resolution_due_at == T + h(25)
    assert deadlines(state, P1).resolution_due_at == T + h(3)


def test_resolved_and_closed_stop_the_clock_like_pauses() -> None:
    assert P1.stops_clock(TicketStatus.PENDING)
    assert P1.stops_clock(TicketStatus.RESOLVED)
    assert P1.stops_clock(TicketStatus.CLOSED)
    assert not P1.stops_clock(TicketStatus.BLOCKED)
    blocked_too = replace(
        P1, pause_statuses=frozenset({TicketStatus.PENDING, TicketStatus.BLOCKED})
    )
    assert blocked_too.stops_clock(TicketStatus.BLOCKED)


@given(st.integers(0, 600), st.integers(0, 600))
def test_more_elapsed_time_never_undoes_a_step(a: int, b: int) -> None:
    early, late = sorted((T + timedelta(minutes=a), T + timedelta(minutes=b)))
    done_early = set(kinds(due_steps(SlaState(created_at=T), P1, early)))
    done_late = set(kinds(due_steps(SlaState(created_at=T), P1, late)))
    done_early.discard(("RESOLUTION_WARNING", None))  # superseded by the breach when late
    assert done_early <= done_late
