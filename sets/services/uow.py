"""Unit of work: one transaction for a change, its audit events and outbox rows."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain.audit import event_hash
from sets.domain.clock import Clock
from sets.models import Notification, Ticket, TicketEvent
from sets.realtime.bus import EventBus
from sets.repositories.catalog import CatalogRepository
from sets.repositories.notifications import NotificationRepository
from sets.repositories.tickets import TicketRepository
from sets.repositories.users import TeamRepository, UserRepository

TICKET_EVENTS_TOPIC = "ticket-events"
log = logging.getLogger("sets.notify")

Dispatch = Callable[[Sequence[Notification]], Awaitable[None]]
"""After commit: push in-app rows live and enqueue the others for delivery."""


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        bus: EventBus,
        dispatch: Dispatch | None = None,
    ) -> None:
        self._sessions = sessions
        self.clock = clock
        self.bus = bus
        self._dispatch = dispatch
        self._recorded: list[TicketEvent] = []
        self._outbox: list[Notification] = []
        self._committed = False

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        await self.session.begin()
        self.users = UserRepository(self.session)
        self.teams = TeamRepository(self.session)
        self.catalog = CatalogRepository(self.session)
        self.tickets = TicketRepository(self.session)
        self.notifications = NotificationRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def record(
        self,
        ticket: Ticket,
        kind: str,
        actor_id: int | None,
        data: dict[str, Any],
        *,
        internal: bool = False,
    ) -> TicketEvent:
        """Append an audit event to the ticket's hash chain (the ticket row is locked)."""
        now = self.clock.now()
        seq = ticket.event_seq + 1
        digest = event_hash(
            prev_hash=ticket.last_event_hash,
            ticket_id=ticket.id,
            seq=seq,
            kind=kind,
            actor_id=actor_id,
            data=data,
            created_at=now,
        )
        event = TicketEvent(
            ticket_id=ticket.id,
            seq=seq,
            kind=kind,
            actor_id=actor_id,
            internal=internal,
            data=data,
            created_at=now,
            prev_hash=ticket.last_event_hash,
            hash=digest,
        )
        ticket.event_seq = seq
        ticket.last_event_hash = digest
        self.session.add(event)
        self._recorded.append(event)
        return event

    def add_notifications(self, rows: Iterable[Notification]) -> None:
        """Outbox rows, written with this transaction and dispatched after its commit."""
        rows = list(rows)
        self.session.add_all(rows)
        self._outbox.extend(rows)

    async def commit(self) -> None:
        await self.session.commit()
        self._committed = True
        # Only after commit: a rolled-back change must never reach a subscriber.
        for event in self._recorded:
            await self.bus.publish(
                TICKET_EVENTS_TOPIC,
                {
                    "id": event.id,
                    "ticket_id": event.ticket_id,
                    "seq": event.seq,
                    "kind": event.kind,
                    "internal": event.internal,
                },
            )
        self._recorded.clear()
        rows, self._outbox = self._outbox, []
        if rows and self._dispatch is not None:
            try:
                await self._dispatch(rows)
            except Exception:
                # Committed rows are never lost: the rescue job enqueues what this missed.
                log.exception("dispatching %d notifications failed", len(rows))
