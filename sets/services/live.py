"""Shared reads for live delivery. Every subscriber of a process hears the same event ids;
reading each event (with its ticket) once per process, instead of once per subscriber, keeps
fan-out cost proportional to events, not to events x subscribers. Authorization stays per
subscriber, by the same domain rules as the SQL twin used for queries."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain import permissions
from sets.domain.actor import Actor
from sets.models import Ticket, TicketEvent
from sets.repositories.tickets import EventQuery, TicketRepository

Snapshot = tuple[TicketEvent, Ticket]


class EventSnapshots:
    """Recently committed events with their tickets as read just after: an LRU with
    single-flight loading, so concurrent subscribers asking for the same ids share a query."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], size: int = 10_000) -> None:
        self._sessions = sessions
        self._size = size
        self._cache: OrderedDict[int, Snapshot] = OrderedDict()
        self._pending: dict[int, asyncio.Future[dict[int, Snapshot]]] = {}

    async def get(self, ids: Sequence[int]) -> dict[int, Snapshot]:
        found: dict[int, Snapshot] = {}
        waiting: list[tuple[int, asyncio.Future[dict[int, Snapshot]]]] = []
        missing: list[int] = []
        for pk in ids:
            if pk in self._cache:
                found[pk] = self._cache[pk]
                self._cache.move_to_end(pk)
            elif pk in self._pending:
                waiting.append((pk, self._pending[pk]))
            else:
                missing.append(pk)
        if missing:
            # A task of its own: the caller that started it going away (a closed websocket)
            # must not cancel the read that the others wait for.
            load = asyncio.ensure_future(self._load(missing))
            load.add_done_callback(_retrieve)
            for pk in missing:
                self._pending[pk] = load
                waiting.append((pk, load))
        for pk, pending in waiting:
            shared = (pending.result() if pending.done() else await asyncio.shield(pending)).get(pk)
            if shared is not None:
                found[pk] = shared
        return found

    async def _load(self, missing: list[int]) -> dict[int, Snapshot]:
        try:
            async with self._sessions() as session:
                rows = await TicketRepository(session).events_with_tickets(missing)
        finally:
            for pk in missing:
                self._pending.pop(pk, None)
        loaded = {event.id: (event, ticket) for event, ticket in rows}
        for pk, snapshot in loaded.items():
            self._cache[pk] = snapshot
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return loaded

    async def prefetch(self, messages: Sequence[dict[str, Any]]) -> None:
        """A bus gate (`EventBus.gate`): read the events that messages name before the
        subscribers wake, so that they find them here instead of each waiting for it."""
        ids = [pk for message in messages if isinstance(pk := message.get("id"), int)]
        if ids:
            await self.get(ids)

    async def visible(
        self, actor: Actor, query: EventQuery, ids: Sequence[int]
    ) -> list[TicketEvent]:
        """The events among `ids` this subscriber may see and asked for, by ascending id."""
        internal_ok = permissions.can_see_internal(actor)
        snapshots = await self.get(ids)
        visible = []
        for pk in sorted(snapshots):
            event, ticket = snapshots[pk]
            if ticket.deleted_at is not None or (event.internal and not internal_ok):
                continue
            if permissions.can_view(actor, ticket) and query.matches(ticket):
                visible.append(event)
        return visible


def _retrieve(task: asyncio.Future[dict[int, Snapshot]]) -> None:
    # Every waiter re-raises a failure itself; this only keeps asyncio from reporting it
    # as never retrieved when all of them went away.
    if not task.cancelled():
        task.exception()
