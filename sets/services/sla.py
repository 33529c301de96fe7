"""SLA bookkeeping shared by the ticket use cases."""

from __future__ import annotations

from datetime import timedelta

from sets.domain.enums import Priority
from sets.domain.sla import DEFAULT_TARGETS, DueTimes, SlaTargets, due_times, next_check_at
from sets.models import SlaPolicy, Ticket
from sets.repositories.catalog import CatalogRepository


def targets_from(policy: SlaPolicy | None, priority: Priority) -> SlaTargets:
    if policy is None:
        return DEFAULT_TARGETS[priority]
    return SlaTargets(
        first_response=timedelta(minutes=policy.first_response_minutes),
        resolution=timedelta(minutes=policy.resolution_minutes),
        warning_ratio=policy.warning_percent / 100,
    )


async def apply_due_times(catalog: CatalogRepository, ticket: Ticket) -> None:
    """Due times follow the priority and are always measured from creation."""
    targets = targets_from(await catalog.sla_policy(ticket.priority), ticket.priority)
    due = due_times(ticket.created_at, targets)
    ticket.first_response_due_at = due.first_response_due_at
    ticket.resolution_due_at = due.resolution_due_at
    refresh_next_check(ticket, targets.warning_ratio)


def refresh_next_check(ticket: Ticket, warning_ratio: float = 0.75) -> None:
    resolution = ticket.resolution_due_at - ticket.created_at
    due = DueTimes(
        first_response_due_at=ticket.first_response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        resolution_warning_at=ticket.created_at + resolution * warning_ratio,
    )
    ticket.next_sla_check_at = next_check_at(
        due,
        first_responded=ticket.first_responded_at is not None or ticket.first_response_breached,
        warned=ticket.resolution_warned,
        resolution_breached=ticket.resolution_breached,
        open_=ticket.status.is_open,
    )
