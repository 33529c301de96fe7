"""Helpers for the collaboration tests (issue 7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from sets.domain.actor import Actor
from sets.domain.enums import TicketStatus
from sets.models import (
    KnowledgeArticle,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketRating,
    TicketTask,
    TimeEntry,
)
from tests.integration.support import Demo

TABLES: tuple[Any, ...] = (
    Ticket,
    TicketEvent,
    TicketTask,
    TicketLink,
    TimeEntry,
    TicketRating,
    KnowledgeArticle,
)


async def snapshot(demo: Demo) -> dict[str, Any]:
    """Row counts of every table the collaboration use cases write, plus each ticket's
    status, version and event count: equal before and after a refusal."""
    found: dict[str, Any] = {}
    async with demo.services.db.reader() as session:
        for model in TABLES:
            count = await session.scalar(select(func.count()).select_from(model))
            found[model.__tablename__] = int(count or 0)
        rows = await session.execute(select(Ticket.id, Ticket.status, Ticket.version))
        found["tickets_state"] = sorted((i, s.value, v) for i, s, v in rows)
        live = await session.scalar(
            select(func.count()).select_from(TicketTask).where(TicketTask.deleted_at.is_(None))
        )
        found["live_tasks"] = int(live or 0)
    return found


async def in_progress(
    demo: Demo, title: str = "Printer jam", requester: Actor | None = None
) -> int:
    """A Service Desk ticket of Rita's, taken by the agent and in progress."""
    tickets = demo.services.tickets
    ticket = await tickets.create(requester or demo.rita, title=title, description="Help.")
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    await tickets.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    return ticket.id


async def resolved(demo: Demo, title: str = "Printer jam") -> int:
    tid = await in_progress(demo, title)
    await demo.services.tickets.transition(
        demo.agent, tid, TicketStatus.RESOLVED, resolution="Cleared the jam."
    )
    return tid
