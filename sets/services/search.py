"""Ticket search ranked by relevance (SPEC §9); filters and visibility as for every list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain.actor import Actor
from sets.repositories.tickets import TicketQuery, TicketRepository
from sets.services.queries import Page


class SearchService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def ranked(
        self, actor: Actor, query: TicketQuery, *, first: int, after: tuple[Any, int] | None
    ) -> tuple[Page, list[int]]:
        """A page of tickets, best match first, and each one's score (the cursor key)."""
        async with self._sessions() as session:
            rows, total = await TicketRepository(session).ranked_page(
                query, actor, after=after, limit=first + 1
            )
        shown = rows[:first]
        page = Page([t for t, _ in shown], len(rows) > first, total)
        return page, [score for _, score in shown]
