"""SLA clock (SPEC §4-5): due times in business time, pushed out by time the clock stood
still, and what a sweep has to do for a ticket at a given moment. `now` is always passed in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sets.domain.calendar import ALWAYS_OPEN, BusinessCalendar
from sets.domain.enums import Priority, TicketStatus
from sets.domain.escalation import DEFAULT_STEPS, EscalationStep


@dataclass(frozen=True)
class SlaPolicySpec:
    first_response: timedelta
    resolution: timedelta
    warning_percent: int = 75
    pause_statuses: frozenset[TicketStatus] = frozenset({TicketStatus.PENDING})
    calendar: BusinessCalendar = ALWAYS_OPEN
    escalation: tuple[EscalationStep, ...] = DEFAULT_STEPS

    def stops_clock(self, status: TicketStatus) -> bool:
        """Paused statuses, and resolved/closed: the ticket is not waiting on the team."""
        return status in self.pause_statuses or not status.is_open


DEFAULT_POLICIES: dict[Priority, SlaPolicySpec] = {
    Priority.P1: SlaPolicySpec(timedelta(minutes=15), timedelta(hours=2)),
    Priority.P2: SlaPolicySpec(timedelta(hours=1), timedelta(hours=6)),
    Priority.P3: SlaPolicySpec(timedelta(hours=4), timedelta(hours=24)),
    Priority.P4: SlaPolicySpec(timedelta(hours=8), timedelta(hours=72)),
}


@dataclass(frozen=True, slots=True)
class SlaState:
    """What a ticket records about its clock."""

    created_at: datetime
    # Open (business) time the clock stood still in spans that have ended.
    stopped_for: timedelta = timedelta(0)
    stopped_since: datetime | None = None  # the clock stands still now, since then
    first_responded: bool = False
    first_response_breached: bool = False
    warned: bool = False
    resolution_breached: bool = False
    escalation_level: int = 0


@dataclass(frozen=True, slots=True)
class Deadlines:
    first_response_due_at: datetime
    warning_at: datetime
    resolution_due_at: datetime
    escalations: tuple[tuple[int, datetime], ...] = field(default=())


def deadlines(state: SlaState, policy: SlaPolicySpec) -> Deadlines:
    """Business-time targets from creation, plus the time the clock stood still."""

    def after(target: timedelta) -> datetime:
        return policy.calendar.add(state.created_at, target + state.stopped_for)

    resolution = policy.resolution
    return Deadlines(
        first_response_due_at=after(policy.first_response),
        warning_at=after(resolution * policy.warning_percent / 100),
        resolution_due_at=after(resolution),
        escalations=tuple(
            (step.level, after(resolution + resolution * step.after_breach_percent / 100))
            for step in sorted(policy.escalation, key=lambda s: s.level)
        ),
    )


class StepKind(StrEnum):
    FIRST_RESPONSE_BREACH = "FIRST_RESPONSE_BREACH"
    RESOLUTION_WARNING = "RESOLUTION_WARNING"
    RESOLUTION_BREACH = "RESOLUTION_BREACH"
    ESCALATION = "ESCALATION"


@dataclass(frozen=True, slots=True)
class DueStep:
    kind: StepKind
    due_at: datetime
    level: int | None = None


def due_steps(state: SlaState, policy: SlaPolicySpec, now: datetime) -> list[DueStep]:
    """Everything that has come due by `now` and not happened yet, in time order. A sweep
    that runs late catches up, but a warning that would arrive after the breach is dropped."""
    if state.stopped_since is not None:
        return []
    times = deadlines(state, policy)
    steps: list[DueStep] = []
    first_response_open = not state.first_responded and not state.first_response_breached
    if first_response_open and times.first_response_due_at <= now:
        steps.append(DueStep(StepKind.FIRST_RESPONSE_BREACH, times.first_response_due_at))
    breach_due = not state.resolution_breached and times.resolution_due_at <= now
    if not state.warned and times.warning_at <= now and not breach_due:
        steps.append(DueStep(StepKind.RESOLUTION_WARNING, times.warning_at))
    if breach_due:
        steps.append(DueStep(StepKind.RESOLUTION_BREACH, times.resolution_due_at))
    for level, due_at in times.escalations:
        if level > state.escalation_level and due_at <= now:
            steps.append(DueStep(StepKind.ESCALATION, due_at, level))
    return sorted(steps, key=lambda s: (s.due_at, s.kind != StepKind.RESOLUTION_BREACH))


def next_check_at(state: SlaState, policy: SlaPolicySpec) -> datetime | None:
    """The earliest moment something is still to happen: the sweep reads tickets by it."""
    if state.stopped_since is not None:
        return None
    times = deadlines(state, policy)
    moments: list[datetime] = []
    if not state.first_responded and not state.first_response_breached:
        moments.append(times.first_response_due_at)
    if not state.warned and not state.resolution_breached:
        moments.append(times.warning_at)
    if not state.resolution_breached:
        moments.append(times.resolution_due_at)
    moments.extend(at for level, at in times.escalations if level > state.escalation_level)
    return min(moments) if moments else None


def stop_clock(state: SlaState, now: datetime) -> SlaState:
    if state.stopped_since is not None:
        return state
    return replace(state, stopped_since=now)


def restart_clock(state: SlaState, policy: SlaPolicySpec, now: datetime) -> SlaState:
    """The time the clock stood still is added (as open time) to every due moment."""
    if state.stopped_since is None:
        return state
    still = policy.calendar.between(state.stopped_since, now)
    return replace(state, stopped_for=state.stopped_for + still, stopped_since=None)
