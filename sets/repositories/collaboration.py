"""Queries for tasks, links, time entries, ratings and knowledge articles; never commit."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sets.domain.enums import TicketStatus
from sets.models import (
    KnowledgeArticle,
    Ticket,
    TicketLink,
    TicketRating,
    TicketTask,
    TimeEntry,
    User,
)

UNRESOLVED = [s for s in TicketStatus if s.is_open]
BLOCKS = "BLOCKS"


class CollaborationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(
        self, row: TicketTask | TicketLink | TimeEntry | TicketRating | KnowledgeArticle
    ) -> None:
        self.session.add(row)

    async def lock_user(self, user_id: int) -> None:
        """Serialise one person's timer changes (PostgreSQL; SQLite writers queue anyway)."""
        await self.session.execute(select(User.id).where(User.id == user_id).with_for_update())

    # tasks

    async def task(self, task_id: int) -> TicketTask | None:
        found = await self.session.get(TicketTask, task_id)
        return found if found is not None and found.deleted_at is None else None

    async def tasks_for(self, ticket_ids: Sequence[int]) -> dict[int, list[TicketTask]]:
        found: dict[int, list[TicketTask]] = {tid: [] for tid in ticket_ids}
        if not ticket_ids:
            return found
        rows = await self.session.scalars(
            select(TicketTask)
            .where(TicketTask.ticket_id.in_(set(ticket_ids)), TicketTask.deleted_at.is_(None))
            .order_by(TicketTask.ticket_id, TicketTask.position, TicketTask.id)
        )
        for row in rows:
            found[row.ticket_id].append(row)
        return found

    async def open_task_count(self, ticket_id: int) -> int:
        stmt = select(func.count()).where(
            TicketTask.ticket_id == ticket_id,
            TicketTask.deleted_at.is_(None),
            TicketTask.done_at.is_(None),
        )
        return int(await self.session.scalar(stmt) or 0)

    # links

    async def link(self, link_id: int) -> TicketLink | None:
        found = await self.session.get(TicketLink, link_id)
        return found if found is not None and found.deleted_at is None else None

    async def existing_link(self, from_id: int, to_id: int, kind: str) -> TicketLink | None:
        """A live link of this kind between the two (either way for RELATES_TO)."""
        pair = and_(TicketLink.from_ticket_id == from_id, TicketLink.to_ticket_id == to_id)
        if kind == "RELATES_TO":
            pair = or_(
                pair,
                and_(TicketLink.from_ticket_id == to_id, TicketLink.to_ticket_id == from_id),
            )
        return await self.session.scalar(
            select(TicketLink)
            .where(pair, TicketLink.kind == kind, TicketLink.deleted_at.is_(None))
            .limit(1)
        )

    async def links_for(self, ticket_ids: Sequence[int]) -> dict[int, list[TicketLink]]:
        """Live links touching each ticket, from either end."""
        found: dict[int, list[TicketLink]] = {tid: [] for tid in ticket_ids}
        if not ticket_ids:
            return found
        wanted = set(ticket_ids)
        rows = await self.session.scalars(
            select(TicketLink)
            .where(
                TicketLink.deleted_at.is_(None),
                or_(TicketLink.from_ticket_id.in_(wanted), TicketLink.to_ticket_id.in_(wanted)),
            )
            .order_by(TicketLink.id)
        )
        for row in rows:
            for end in {row.from_ticket_id, row.to_ticket_id} & wanted:
                found[end].append(row)
        return found

    async def blocks_reachable_from(self, start: int) -> list[tuple[int, int]]:
        """Every live BLOCKS edge reachable from `start` (one recursive statement)."""
        live = and_(TicketLink.kind == BLOCKS, TicketLink.deleted_at.is_(None))
        reach = (
            select(TicketLink.from_ticket_id.label("a"), TicketLink.to_ticket_id.label("b"))
            .where(live, TicketLink.from_ticket_id == start)
            .cte("reach", recursive=True)
        )
        step = select(TicketLink.from_ticket_id, TicketLink.to_ticket_id).where(
            live, TicketLink.from_ticket_id == reach.c.b
        )
        reach = reach.union(step)
        rows = await self.session.execute(select(reach.c.a, reach.c.b))
        return [(int(a), int(b)) for a, b in rows]

    async def unresolved_blockers(self, ticket_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(TicketLink.from_ticket_id)
            .join(Ticket, Ticket.id == TicketLink.from_ticket_id)
            .where(
                TicketLink.to_ticket_id == ticket_id,
                TicketLink.kind == BLOCKS,
                TicketLink.deleted_at.is_(None),
                Ticket.deleted_at.is_(None),
                Ticket.status.in_(UNRESOLVED),
            )
        )
        return list(rows)

    # time

    async def time_entry(self, entry_id: int) -> TimeEntry | None:
        found = await self.session.get(TimeEntry, entry_id)
        return found if found is not None and found.deleted_at is None else None

    async def running_timer(self, user_id: int) -> TimeEntry | None:
        return await self.session.scalar(
            select(TimeEntry)
            .where(
                TimeEntry.user_id == user_id,
                TimeEntry.running.is_(True),
                TimeEntry.deleted_at.is_(None),
            )
            .order_by(TimeEntry.id)
            .limit(1)
        )

    async def time_entries_for(self, ticket_ids: Sequence[int]) -> dict[int, list[TimeEntry]]:
        found: dict[int, list[TimeEntry]] = {tid: [] for tid in ticket_ids}
        if not ticket_ids:
            return found
        rows = await self.session.scalars(
            select(TimeEntry)
            .where(TimeEntry.ticket_id.in_(set(ticket_ids)), TimeEntry.deleted_at.is_(None))
            .order_by(TimeEntry.ticket_id, TimeEntry.spent_at, TimeEntry.id)
        )
        for row in rows:
            found[row.ticket_id].append(row)
        return found

    async def minutes_for(self, ticket_ids: Sequence[int]) -> dict[int, int]:
        found = dict.fromkeys(ticket_ids, 0)
        if not ticket_ids:
            return found
        rows = await self.session.execute(
            select(TimeEntry.ticket_id, func.coalesce(func.sum(TimeEntry.minutes), 0))
            .where(TimeEntry.ticket_id.in_(set(ticket_ids)), TimeEntry.deleted_at.is_(None))
            .group_by(TimeEntry.ticket_id)
        )
        found.update({tid: int(n or 0) for tid, n in rows})
        return found

    # ratings

    async def rating(self, ticket_id: int) -> TicketRating | None:
        return await self.session.scalar(
            select(TicketRating).where(TicketRating.ticket_id == ticket_id)
        )

    async def ratings_for(self, ticket_ids: Sequence[int]) -> dict[int, TicketRating]:
        if not ticket_ids:
            return {}
        rows = await self.session.scalars(
            select(TicketRating).where(TicketRating.ticket_id.in_(set(ticket_ids)))
        )
        return {r.ticket_id: r for r in rows}

    # knowledge

    async def article(self, article_id: int) -> KnowledgeArticle | None:
        found = await self.session.get(KnowledgeArticle, article_id)
        return found if found is not None and found.deleted_at is None else None

    async def articles(
        self, words: Sequence[str], *, published_only: bool, limit: int
    ) -> list[KnowledgeArticle]:
        """Newest first; every word must occur in the title or the body (case-insensitive
        for ASCII on both databases)."""
        stmt: Select[KnowledgeArticle] = select(KnowledgeArticle).where(
            KnowledgeArticle.deleted_at.is_(None)
        )
        if published_only:
            stmt = stmt.where(KnowledgeArticle.published.is_(True))
        for word in words:
            pattern = f"%{_escape(word.lower())}%"
            stmt = stmt.where(
                or_(
                    func.lower(KnowledgeArticle.title).like(pattern, escape="\\"),
                    func.lower(KnowledgeArticle.body).like(pattern, escape="\\"),
                )
            )
        rows = await self.session.scalars(
            stmt.order_by(KnowledgeArticle.updated_at.desc(), KnowledgeArticle.id.desc()).limit(
                limit
            )
        )
        return list(rows)


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
