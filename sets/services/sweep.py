"""The SLA sweep and the auto-close job (SPEC §4-5). Each reads only what is due, through an
index, and handles each ticket in its own short transaction: a crash leaves every ticket either
fully processed (events, level, notifications) or untouched, and the next run finishes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from sets.domain import sla
from sets.domain.actor import Actor
from sets.domain.clock import Clock
from sets.domain.enums import EventKind, Role, TicketStatus
from sets.domain.errors import DomainError
from sets.domain.escalation import EscalationAction as A
from sets.domain.escalation import EscalationStep
from sets.models import Ticket
from sets.repositories.catalog import CatalogRepository
from sets.services import outbox
from sets.services.sla import PolicyBook, state_of, store
from sets.services.tickets import TicketService
from sets.services.uow import UnitOfWork

log = logging.getLogger("sets.sla")

BATCH = 200


@dataclass
class SweepSummary:
    examined: int = 0
    warned: int = 0
    breached: int = 0
    escalated: int = 0

    def line(self) -> str:
        return (
            f"sla sweep: {self.examined} tickets examined, {self.warned} warned, "
            f"{self.breached} breached, {self.escalated} escalated"
        )


class SlaSweep:
    def __init__(
        self,
        reader: async_sessionmaker[AsyncSession],
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        batch_size: int = BATCH,
    ) -> None:
        self._reader = reader
        self._uow = uow_factory
        self._clock = clock
        self._batch = batch_size

    async def run(self, now: datetime | None = None) -> SweepSummary:
        now = now or self._clock.now()
        summary = SweepSummary()
        after: tuple[datetime, int] | None = None
        # Policies are a handful of rows: read once per sweep, not once per due ticket.
        async with self._reader() as session:
            book = await PolicyBook.load(CatalogRepository(session))
        while True:
            due = await self._due(now, after)
            for _, ticket_id in due:
                summary.examined += 1
                try:
                    await self._process(ticket_id, now, book, summary)
                except StaleDataError:
                    pass  # another sweep changed it first; it did the work
                except Exception:
                    # One bad ticket must not stop the sweep; it stays due for the next run.
                    log.exception("SLA sweep failed on ticket %s", ticket_id)
            if len(due) < self._batch:
                return summary
            after = due[-1]

    async def _due(
        self, now: datetime, after: tuple[datetime, int] | None
    ) -> list[tuple[datetime, int]]:
        """One batch of due tickets in (next check, id) order, read through the index."""
        query = select(Ticket.id, Ticket.next_sla_check_at).where(Ticket.next_sla_check_at <= now)
        if after is not None:
            at, last_id = after
            query = query.where(
                or_(
                    Ticket.next_sla_check_at > at,
                    and_(Ticket.next_sla_check_at == at, Ticket.id > last_id),
                )
            )
        query = query.order_by(Ticket.next_sla_check_at, Ticket.id).limit(self._batch)
        async with self._reader() as session:
            rows = (await session.execute(query)).all()
        return [(at, ticket_id) for ticket_id, at in rows if at is not None]

    async def _process(
        self, ticket_id: int, now: datetime, book: PolicyBook, summary: SweepSummary
    ) -> None:
        async with self._uow() as uow:
            ticket = await uow.tickets.get(ticket_id, for_update=True)
            # Re-read under the row lock: a concurrent sweep may have done it already.
            due_at = ticket.next_sla_check_at if ticket is not None else None
            if ticket is None or due_at is None or due_at > now:
                return
            policy = book[ticket.priority]
            steps = sla.due_steps(state_of(ticket), policy, now)
            for step in steps:
                await self._apply(uow, ticket, step, policy, summary)
            store(ticket, state_of(ticket), policy)
            await uow.commit()

    async def _apply(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        step: sla.DueStep,
        policy: sla.SlaPolicySpec,
        summary: SweepSummary,
    ) -> None:
        due = step.due_at.isoformat()
        if step.kind is sla.StepKind.FIRST_RESPONSE_BREACH:
            ticket.first_response_breached = True
            event = uow.record(
                ticket,
                EventKind.SLA_BREACHED,
                None,
                {"target": "FIRST_RESPONSE", "dueAt": due},
                internal=True,
            )
            managers = await self._managers(uow, ticket.team_id)
            await outbox.notify(
                uow,
                ticket,
                event,
                [ticket.assignee_id, *managers],
                subject=f"First response overdue: {ticket.title}",
                body=f"No public reply yet; it was due at {due}.",
            )
            summary.breached += 1
        elif step.kind is sla.StepKind.RESOLUTION_WARNING:
            ticket.resolution_warned = True
            event = uow.record(
                ticket,
                EventKind.SLA_WARNING,
                None,
                {
                    "target": "RESOLUTION",
                    "dueAt": sla.deadlines(state_of(ticket), policy).resolution_due_at.isoformat(),
                    "percent": policy.warning_percent,
                },
                internal=True,
            )
            recipients = (
                [ticket.assignee_id]
                if ticket.assignee_id
                else await self._managers(uow, ticket.team_id)
            )
            await outbox.notify(
                uow,
                ticket,
                event,
                recipients,
                subject=f"Resolution target approaching: {ticket.title}",
                body=f"{policy.warning_percent} % of the resolution target has passed.",
            )
            summary.warned += 1
        elif step.kind is sla.StepKind.RESOLUTION_BREACH:
            ticket.resolution_breached = True
            ticket.resolution_warned = True  # a warning after the breach would be noise
            uow.record(
                ticket,
                EventKind.SLA_BREACHED,
                None,
                {"target": "RESOLUTION", "dueAt": due},
                internal=True,
            )
            summary.breached += 1
        else:
            assert step.level is not None
            spec = next(s for s in policy.escalation if s.level == step.level)
            await self._escalate(uow, ticket, spec)
            summary.escalated += 1

    async def _escalate(self, uow: UnitOfWork, ticket: Ticket, step: EscalationStep) -> None:
        previous_level, previous_team = ticket.escalation_level, ticket.team_id
        target_team = None
        if A.ROUTE_TO_TIER2 in step.actions:
            team = (
                await uow.teams.get(step.target_team_id)
                if step.target_team_id
                else await uow.teams.first_of_tier(2)
            )
            target_team = team.id if team else None
        if A.ROUTE_TO_EXTERNAL in step.actions and ticket.category_id is not None:
            category = await uow.catalog.category(ticket.category_id)
            if category is not None and category.external_team_id is not None:
                target_team = category.external_team_id
        previous_assignee = ticket.assignee_id
        if target_team is not None and target_team != ticket.team_id:
            ticket.team_id = target_team
            if (
                ticket.assignee_id is not None
                and await uow.teams.membership(target_team, ticket.assignee_id) is None
            ):
                ticket.assignee_id = None
        ticket.escalation_level = step.level
        ticket.updated_at = uow.clock.now()
        event = uow.record(
            ticket,
            EventKind.ESCALATED,
            None,
            {
                "from": previous_level,
                "to": step.level,
                "fromTeam": previous_team,
                "toTeam": ticket.team_id,
                "fromAssignee": previous_assignee,
                "toAssignee": ticket.assignee_id,
                "automatic": True,
                "reason": f"resolution target breached (+{step.after_breach_percent} %)",
                "actions": sorted(a.value for a in step.actions),
            },
            internal=True,
        )
        recipients: list[int | None] = []
        if A.NOTIFY_ASSIGNEE in step.actions:
            recipients += [previous_assignee, ticket.assignee_id]
        if A.NOTIFY_TEAM_MANAGERS in step.actions or (
            A.ROUTE_TO_TIER2 in step.actions and ticket.team_id != previous_team
        ):
            recipients += await self._managers(uow, ticket.team_id)
        if A.NOTIFY_ADMINS in step.actions:
            recipients += await uow.users.active_ids(roles=[Role.ADMIN])
        await outbox.notify(
            uow,
            ticket,
            event,
            recipients,
            subject=f"Escalated to level {step.level}: {ticket.title}",
            body=f"The resolution target was missed; the ticket is now at level {step.level}.",
        )

    @staticmethod
    async def _managers(uow: UnitOfWork, team_id: int | None) -> list[int]:
        """Managers of a team; its members when it has none (someone must hear of it)."""
        if team_id is None:
            return await uow.users.active_ids(roles=[Role.ADMIN])
        managers = await uow.users.active_ids(roles=[Role.MANAGER], team_id=team_id)
        if managers:
            return managers
        return await uow.users.active_ids(roles=[Role.AGENT, Role.MANAGER], team_id=team_id)


class AutoClose:
    """RESOLVED tickets the requester never confirmed close after `days`, as the system."""

    def __init__(
        self,
        reader: async_sessionmaker[AsyncSession],
        tickets: TicketService,
        clock: Clock,
        *,
        days: int,
    ) -> None:
        self._reader = reader
        self._tickets = tickets
        self._clock = clock
        self._days = days

    async def run(self, now: datetime | None = None) -> int:
        cutoff = (now or self._clock.now()) - timedelta(days=self._days)
        closed = 0
        after_id = 0
        while True:
            query = (
                select(Ticket.id, Ticket.version)
                .where(
                    Ticket.status == TicketStatus.RESOLVED,
                    Ticket.resolved_at <= cutoff,
                    Ticket.id > after_id,
                    Ticket.deleted_at.is_(None),
                )
                .order_by(Ticket.id)
                .limit(BATCH)
            )
            async with self._reader() as session:
                rows = (await session.execute(query)).all()
            for ticket_id, version in rows:
                try:
                    # The version read with the cutoff: a ticket reopened meanwhile is left be.
                    await self._tickets.transition(
                        Actor.system(),
                        ticket_id,
                        TicketStatus.CLOSED,
                        reason=f"closed automatically {self._days} days after resolution",
                        expected_version=version,
                    )
                    closed += 1
                except DomainError as exc:
                    log.info("auto-close skipped %s: %s", ticket_id, exc.message)
            if len(rows) < BATCH:
                return closed
            after_id = rows[-1][0]
