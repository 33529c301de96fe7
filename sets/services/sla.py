"""SLA bookkeeping shared by the ticket use cases and the sweep: policies from the database
become domain specs; the domain computes; the ticket row stores the results."""

from __future__ import annotations

from datetime import datetime, timedelta

from sets.domain import sla
from sets.domain.calendar import calendar_from_dict
from sets.domain.enums import Priority, TicketStatus
from sets.domain.escalation import DEFAULT_STEPS, EscalationStep, parse_actions
from sets.models import EscalationPolicy, SlaPolicy, Ticket
from sets.repositories.catalog import CatalogRepository


def spec_of(
    policy: SlaPolicy | None, steps: list[EscalationPolicy] | None, priority: Priority
) -> sla.SlaPolicySpec:
    default = sla.DEFAULT_POLICIES[priority]
    escalation = (
        tuple(
            EscalationStep(
                s.level, s.after_breach_percent, parse_actions(s.actions), s.target_team_id
            )
            for s in steps
        )
        if steps
        else DEFAULT_STEPS
    )
    if policy is None:
        return sla.SlaPolicySpec(default.first_response, default.resolution, escalation=escalation)
    return sla.SlaPolicySpec(
        first_response=timedelta(minutes=policy.first_response_minutes),
        resolution=timedelta(minutes=policy.resolution_minutes),
        warning_percent=policy.warning_percent,
        pause_statuses=frozenset(TicketStatus(s) for s in policy.pause_statuses.split(",") if s),
        calendar=calendar_from_dict(policy.calendar),
        escalation=escalation,
    )


class PolicyBook:
    """All SLA and escalation policies, read once (a handful of rows) per sweep or change."""

    def __init__(self, policies: list[SlaPolicy], steps: list[EscalationPolicy]) -> None:
        by_priority = {Priority(p.priority): p for p in policies}
        self._specs = {pr: spec_of(by_priority.get(pr), steps, pr) for pr in Priority}

    @classmethod
    async def load(cls, catalog: CatalogRepository) -> PolicyBook:
        return cls(await catalog.sla_policies(), await catalog.escalation_policies())

    def __getitem__(self, priority: Priority) -> sla.SlaPolicySpec:
        return self._specs[priority]


def state_of(ticket: Ticket) -> sla.SlaState:
    return sla.SlaState(
        created_at=ticket.created_at,
        stopped_for=timedelta(seconds=ticket.sla_stopped_seconds),
        stopped_since=ticket.sla_stopped_since,
        first_responded=ticket.first_responded_at is not None,
        first_response_breached=ticket.first_response_breached,
        warned=ticket.resolution_warned,
        resolution_breached=ticket.resolution_breached,
        escalation_level=ticket.escalation_level,
    )


def store(ticket: Ticket, state: sla.SlaState, policy: sla.SlaPolicySpec) -> None:
    """Write the clock, the due times and the next sweep moment back onto the ticket."""
    ticket.sla_stopped_seconds = int(state.stopped_for.total_seconds())
    ticket.sla_stopped_since = state.stopped_since
    due = sla.deadlines(state, policy)
    ticket.first_response_due_at = due.first_response_due_at
    ticket.resolution_due_at = due.resolution_due_at
    ticket.next_sla_check_at = sla.next_check_at(state, policy)


async def recompute(catalog: CatalogRepository, ticket: Ticket) -> None:
    """After a change of priority or of what has been met: due times and next check."""
    policy = (await PolicyBook.load(catalog))[ticket.priority]
    store(ticket, state_of(ticket), policy)


async def status_changed(
    catalog: CatalogRepository, ticket: Ticket, previous: TicketStatus, now: datetime
) -> None:
    """Pausing, resolving or closing stops the clock; leaving those statuses restarts it and
    pushes every due time out by the open time it stood still."""
    policy = (await PolicyBook.load(catalog))[ticket.priority]
    state = state_of(ticket)
    was_stopped = policy.stops_clock(previous)
    stopped = policy.stops_clock(ticket.status)
    if stopped and not was_stopped:
        state = sla.stop_clock(state, now)
    elif was_stopped and not stopped:
        state = sla.restart_clock(state, policy, now)
    store(ticket, state, policy)
