"""Time tracking (SPEC §9): one running timer per person (starting another stops the
first), minutes logged by hand, and one's own entries edited or soft-deleted; all audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sets.domain import time_tracking as rules
from sets.domain.actor import Actor
from sets.domain.collaboration import ensure_can_collaborate
from sets.domain.enums import EventKind
from sets.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from sets.models import Ticket, TimeEntry
from sets.repositories.collaboration import CollaborationRepository
from sets.services.collaboration import commit, load_ticket, lock_in_order
from sets.services.uow import UnitOfWork


def _person(actor: Actor) -> int:
    if actor.user_id is None or not actor.is_staff:
        raise Forbidden("time is tracked by staff", field="ticketId")
    return actor.user_id


class TimeTrackingService:
    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow = uow_factory

    def _stop(self, uow: UnitOfWork, entry: TimeEntry, ticket: Ticket, why: str) -> None:
        now = uow.clock.now()
        assert entry.started_at is not None
        entry.running = False
        entry.minutes = rules.timer_minutes(entry.started_at, now)
        entry.updated_at = now
        uow.record(
            ticket,
            EventKind.TIMER_STOPPED,
            entry.user_id,
            {"entryId": entry.id, "minutes": entry.minutes, "reason": why},
            internal=True,
        )

    async def start_timer(self, actor: Actor, ticket_id: int) -> TimeEntry:
        user_id = _person(actor)
        async with self._uow() as uow:
            repo = CollaborationRepository(uow.session)
            await repo.lock_user(user_id)
            running = await repo.running_timer(user_id)
            if running is not None and running.ticket_id == ticket_id:
                raise Conflict("your timer is already running on this ticket", field="ticketId")
            ids = [ticket_id] + ([running.ticket_id] if running else [])
            locked = await lock_in_order(uow, ids)
            ticket = await load_ticket(uow, actor, ticket_id)
            ensure_can_collaborate(actor, ticket, "track time on it")
            if running is not None:
                previous = locked[running.ticket_id]
                assert previous is not None
                self._stop(uow, running, previous, "another timer was started")
            now = uow.clock.now()
            entry = TimeEntry(
                ticket_id=ticket.id,
                user_id=user_id,
                running=True,
                started_at=now,
                spent_at=now,
                created_at=now,
                updated_at=now,
            )
            repo.add(entry)
            await uow.session.flush()
            uow.record(
                ticket, EventKind.TIMER_STARTED, user_id, {"entryId": entry.id}, internal=True
            )
            await commit(uow)
            return entry

    async def stop_timer(self, actor: Actor) -> TimeEntry:
        user_id = _person(actor)
        async with self._uow() as uow:
            repo = CollaborationRepository(uow.session)
            await repo.lock_user(user_id)
            running = await repo.running_timer(user_id)
            if running is None:
                raise NotFound("you have no running timer", field=None)
            ticket = await uow.tickets.get(running.ticket_id, for_update=True)
            assert ticket is not None
            # Stopping one's own timer is allowed even once the ticket is closed: the time
            # was spent; the audit event still lands on the ticket's chain.
            self._stop(uow, running, ticket, "stopped")
            await commit(uow)
            return running

    async def log(
        self,
        actor: Actor,
        ticket_id: int,
        *,
        minutes: int,
        note: str | None = None,
        spent_at: datetime | None = None,
    ) -> TimeEntry:
        user_id = _person(actor)
        minutes = rules.minutes(minutes)
        note = rules.note(note)
        async with self._uow() as uow:
            now = uow.clock.now()
            when = rules.spent_at(spent_at, now)
            ticket = await load_ticket(uow, actor, ticket_id)
            ensure_can_collaborate(actor, ticket, "log time on it")
            entry = TimeEntry(
                ticket_id=ticket.id,
                user_id=user_id,
                running=False,
                minutes=minutes,
                spent_at=when,
                note=note,
                created_at=now,
                updated_at=now,
            )
            CollaborationRepository(uow.session).add(entry)
            await uow.session.flush()
            ticket.updated_at = now
            uow.record(
                ticket,
                EventKind.TIME_LOGGED,
                user_id,
                {"entryId": entry.id, "minutes": minutes, "spentAt": when.isoformat()},
                internal=True,
            )
            await commit(uow)
            return entry

    async def _own_entry(
        self, uow: UnitOfWork, actor: Actor, entry_id: int
    ) -> tuple[TimeEntry, Ticket]:
        user_id = _person(actor)
        repo = CollaborationRepository(uow.session)
        entry = await repo.time_entry(entry_id)
        if entry is None or entry.user_id != user_id:
            # Others' entries are not one's to change: the same answer as a missing one.
            raise NotFound("time entry not found", field="entryId")
        ticket = await load_ticket(uow, actor, entry.ticket_id, field="entryId")
        await uow.session.refresh(entry)
        if entry.deleted_at is not None:
            raise NotFound("time entry not found", field="entryId")
        return entry, ticket

    async def update(
        self,
        actor: Actor,
        entry_id: int,
        *,
        minutes: int | None = None,
        note: str | None = None,
        spent_at: datetime | None = None,
    ) -> TimeEntry:
        if minutes is not None:
            minutes = rules.minutes(minutes)
        if note is not None:
            note = rules.note(note)
        async with self._uow() as uow:
            entry, ticket = await self._own_entry(uow, actor, entry_id)
            if entry.running:
                raise ValidationFailed("stop the timer before editing it", field="entryId")
            now = uow.clock.now()
            changes: dict[str, Any] = {}
            if minutes is not None and minutes != entry.minutes:
                changes["minutes"] = {"from": entry.minutes, "to": minutes}
                entry.minutes = minutes
            if note is not None and note != entry.note:
                changes["note"] = {"changed": True}
                entry.note = note
            if spent_at is not None:
                when = rules.spent_at(spent_at, now)
                if when != entry.spent_at:
                    changes["spentAt"] = {
                        "from": entry.spent_at.isoformat(),
                        "to": when.isoformat(),
                    }
                    entry.spent_at = when
            if not changes:
                raise ValidationFailed("nothing to change", field="entryId")
            entry.updated_at = ticket.updated_at = now
            uow.record(
                ticket,
                EventKind.TIME_ENTRY_UPDATED,
                actor.user_id,
                {"entryId": entry.id, "changes": changes},
                internal=True,
            )
            await commit(uow)
            return entry

    async def delete(self, actor: Actor, entry_id: int) -> TimeEntry:
        """Soft delete (a running timer is discarded with it)."""
        async with self._uow() as uow:
            entry, ticket = await self._own_entry(uow, actor, entry_id)
            now = uow.clock.now()
            entry.running = False
            entry.deleted_at = entry.updated_at = ticket.updated_at = now
            uow.record(
                ticket,
                EventKind.TIME_ENTRY_DELETED,
                actor.user_id,
                {"entryId": entry.id, "minutes": entry.minutes},
                internal=True,
            )
            await commit(uow)
            return entry
