"""The signed-in user's dashboard: four short ticket lists read in one statement.

Staff: my open tickets (most urgent resolution first), my teams' unassigned queue (highest
priority, oldest first), recently resolved tickets of mine or my teams (newest first), and
those whose next SLA moment falls within the horizon (soonest first); admins watch every
team. Requesters: their own open tickets and their recently resolved ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain.actor import Actor
from sets.domain.clock import Clock
from sets.domain.errors import ValidationFailed
from sets.models import Ticket
from sets.repositories.dashboard import (
    BREACHING,
    MINE,
    QUEUE,
    RESOLVED,
    DashboardQuery,
    DashboardRepository,
)

RECENT = timedelta(days=7)
MAX_HORIZON_MINUTES = 7 * 24 * 60
MAX_ITEMS = 50


@dataclass(frozen=True)
class TicketList:
    tickets: list[Ticket]
    total: int


@dataclass(frozen=True)
class Dashboard:
    generated_at: datetime
    breaching_before: datetime
    my_tickets: TicketList
    team_queue: TicketList
    recently_resolved: TicketList
    breaching_soon: TicketList


class DashboardService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def for_actor(self, actor: Actor, *, first: int, horizon_minutes: int) -> Dashboard:
        if not 1 <= first <= MAX_ITEMS:
            raise ValidationFailed(f"first must be between 1 and {MAX_ITEMS}", field="first")
        if not 1 <= horizon_minutes <= MAX_HORIZON_MINUTES:
            raise ValidationFailed(
                f"the horizon must be between 1 and {MAX_HORIZON_MINUTES} minutes",
                field="breachingWithinMinutes",
            )
        now = self._clock.now()
        query = DashboardQuery(
            now=now,
            breaching_before=now + timedelta(minutes=horizon_minutes),
            resolved_since=now - RECENT,
            limit=first,
        )
        async with self._sessions() as session:
            found = await DashboardRepository(session).lists(actor, query)

        def listed(name: str) -> TicketList:
            tickets, total = found.get(name, ([], 0))
            return TicketList(tickets, total)

        return Dashboard(
            generated_at=now,
            breaching_before=query.breaching_before,
            my_tickets=listed(MINE),
            team_queue=listed(QUEUE),
            recently_resolved=listed(RESOLVED),
            breaching_soon=listed(BREACHING),
        )
