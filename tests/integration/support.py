"""Helpers for the service-layer integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from sets.domain.actor import Actor
from sets.domain.enums import Role
from sets.domain.errors import DomainError, ErrorCode
from sets.models import Comment, Ticket, TicketEvent
from sets.repositories.tickets import EventRecord, TicketRepository
from sets.services.container import Services
from sets.services.demo import DEMO_PASSWORD
from tests.helpers import actor_of

PASSWORD = DEMO_PASSWORD
_ANY = object()


@contextmanager
def raises_domain(
    code: ErrorCode, field: str | object | None = _ANY
) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """Expect a typed domain error with this code (and, if given, this field)."""
    with pytest.raises(DomainError) as info:
        yield info
    error = info.value
    assert error.code is code, f"expected {code}, got {error.code}: {error.message}"
    if field is not _ANY:
        assert error.field == field, f"expected field {field!r}, got {error.field!r}"


@dataclass
class Demo:
    """The demo data set (sets.services.demo) with its actors and ids at hand."""

    services: Services
    admin: Actor
    manager: Actor
    agent: Actor
    senior: Actor
    vendor: Actor
    rita: Actor
    carl: Actor
    teams: dict[str, int]
    categories: dict[str, int]

    @property
    def desk(self) -> int:
        return self.teams["Service Desk"]

    async def ticket(self, ticket_id: int) -> Ticket:
        """The ticket as stored now, read as the admin (who sees everything)."""
        return await self.services.reads.ticket(self.admin, ticket_id)

    async def chain(self, ticket_id: int) -> list[TicketEvent]:
        """The ticket's stored events with their hashes (lists read only plain columns)."""
        async with self.services.db.reader() as session:
            return await TicketRepository(session).chain(ticket_id)

    async def events(self, ticket_id: int, actor: Actor | None = None) -> list[EventRecord]:
        found = await self.services.reads.events(
            actor or self.admin,
            [ticket_id],
            after_seq=None,
            before_seq=None,
            limit=1000,
            newest_first=False,
        )
        return found[ticket_id]

    async def kinds(self, ticket_id: int) -> list[str]:
        return [e.kind for e in await self.events(ticket_id)]

    async def count_rows(self, model: type[Ticket | TicketEvent | Comment]) -> int:
        async with self.services.db.reader() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def row_counts(self) -> tuple[int, int, int]:
        return (
            await self.count_rows(Ticket),
            await self.count_rows(TicketEvent),
            await self.count_rows(Comment),
        )

    async def ticket_ids(self) -> set[int]:
        async with self.services.db.reader() as session:
            return set(await session.scalars(select(Ticket.id)))

    async def new_agent(self, email: str, team: str = "Service Desk") -> Actor:
        """A further active agent in `team` (the demo has one agent per team)."""
        system = Actor.system()
        user = await self.services.admin.create_user(
            system,
            email=email,
            name=email.split("@")[0].title(),
            role=Role.AGENT,
            password=PASSWORD,
        )
        await self.services.admin.set_membership(
            system, team_id=self.teams[team], user_id=user.id, member=True
        )
        return await actor_of(self.services, email)
