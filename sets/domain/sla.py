"""SLA targets and due times (SPEC §4). Round-the-clock calendar for now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sets.domain.enums import Priority


@dataclass(frozen=True, slots=True)
class SlaTargets:
    first_response: timedelta
    resolution: timedelta
    warning_ratio: float = 0.75


DEFAULT_TARGETS: dict[Priority, SlaTargets] = {
    Priority.P1: SlaTargets(timedelta(minutes=15), timedelta(hours=2)),
    Priority.P2: SlaTargets(timedelta(hours=1), timedelta(hours=6)),
    Priority.P3: SlaTargets(timedelta(hours=4), timedelta(hours=24)),
    Priority.P4: SlaTargets(timedelta(hours=8), timedelta(hours=72)),
}


@dataclass(frozen=True, slots=True)
class DueTimes:
    first_response_due_at: datetime
    resolution_due_at: datetime
    resolution_warning_at: datetime


def due_times(created_at: datetime, targets: SlaTargets) -> DueTimes:
    if created_at.tzinfo is None:
        raise ValueError("instants must be timezone-aware (UTC)")
    return DueTimes(
        first_response_due_at=created_at + targets.first_response,
        resolution_due_at=created_at + targets.resolution,
        resolution_warning_at=created_at + targets.resolution * targets.warning_ratio,
    )


def next_check_at(
    due: DueTimes,
    *,
    first_responded: bool,
    warned: bool,
    resolution_breached: bool,
    open_: bool,
) -> datetime | None:
    """The earliest moment the sweep has something to do for this ticket, if any."""
    if not open_:
        return None
    moments: list[datetime] = []
    if not first_responded:
        moments.append(due.first_response_due_at)
    if not warned:
        moments.append(due.resolution_warning_at)
    if not resolution_breached:
        moments.append(due.resolution_due_at)
    return min(moments) if moments else None
