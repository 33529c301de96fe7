from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from sets.domain.actor import Actor
from sets.domain.enums import Priority, TicketStatus
from sets.domain.tickets import parse_ticket_key
from sets.models import Comment, Ticket, TicketEvent

ORDER_COLUMNS = {
    "CREATED_AT": Ticket.created_at,
    "UPDATED_AT": Ticket.updated_at,
    "PRIORITY": Ticket.priority,
    "RESOLUTION_DUE_AT": Ticket.resolution_due_at,
}


@dataclass(frozen=True)
class TicketQuery:
    statuses: Sequence[TicketStatus] = ()
    priorities: Sequence[Priority] = ()
    category_ids: Sequence[int] = ()
    team_ids: Sequence[int] = ()
    assignee_ids: Sequence[int] = ()
    requester_ids: Sequence[int] = ()
    unassigned: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    order_field: str = "CREATED_AT"
    descending: bool = True
    ids: Sequence[int] = field(default=())
    open: bool | None = None
    search: str | None = None


def visibility_clause(actor: Actor) -> ColumnElement[bool] | None:
    """SQL twin of domain.permissions.can_view; None means no restriction."""
    if actor.is_admin:
        return None
    if not actor.is_staff:
        return Ticket.requester_id == actor.user_id
    if actor.is_external_only:
        return or_(
            Ticket.team_id.in_(actor.team_ids),
            Ticket.assignee_id == actor.user_id,
            Ticket.requester_id == actor.user_id,
        )
    return None


def _filters(query: TicketQuery, actor: Actor) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [Ticket.deleted_at.is_(None)]
    seen = visibility_clause(actor)
    if seen is not None:
        clauses.append(seen)
    pairs: list[tuple[Any, Sequence[Any]]] = [
        (Ticket.id, query.ids),
        (Ticket.status, query.statuses),
        (Ticket.priority, query.priorities),
        (Ticket.category_id, query.category_ids),
        (Ticket.team_id, query.team_ids),
        (Ticket.assignee_id, query.assignee_ids),
        (Ticket.requester_id, query.requester_ids),
    ]
    for column, values in pairs:
        if values:
            clauses.append(column.in_(list(values)))
    if query.unassigned is True:
        clauses.append(Ticket.assignee_id.is_(None))
    elif query.unassigned is False:
        clauses.append(Ticket.assignee_id.is_not(None))
    if query.open is not None:
        wanted = [s for s in TicketStatus if s.is_open == query.open]
        clauses.append(Ticket.status.in_(wanted))
    if query.search:
        clauses.append(_search_clause(query.search))
    if query.created_after is not None:
        clauses.append(Ticket.created_at >= query.created_after)
    if query.created_before is not None:
        clauses.append(Ticket.created_at < query.created_before)
    return clauses


def _search_clause(text: str) -> ColumnElement[bool]:
    """A key ("SETS-42") finds that ticket; otherwise every word must appear in the title or
    description (case-insensitive). Full-text ranking replaces this in the search issue."""
    pk = parse_ticket_key(text)
    if pk is not None:
        return Ticket.id == pk
    words = [w.lower() for w in text.split()[:10]]
    return and_(
        *(
            or_(
                func.lower(Ticket.title).contains(w, autoescape=True),
                func.lower(Ticket.description).contains(w, autoescape=True),
            )
            for w in words
        )
    )


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ticket_id: int, *, for_update: bool = False) -> Ticket | None:
        query = select(Ticket).where(Ticket.id == ticket_id, Ticket.deleted_at.is_(None))
        if for_update:
            # Serialises writers to one ticket on PostgreSQL; SQLite writers already queue
            # on BEGIN IMMEDIATE.
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def get_many(self, ids: Sequence[int]) -> dict[int, Ticket]:
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(Ticket).where(Ticket.id.in_(set(ids)), Ticket.deleted_at.is_(None))
        )
        return {t.id: t for t in rows}

    async def page(
        self,
        query: TicketQuery,
        actor: Actor,
        *,
        after: tuple[Any, int] | None,
        limit: int,
    ) -> tuple[list[Ticket], int | None]:
        """One page by keyset; the total comes free in the same statement on a first page."""
        column = ORDER_COLUMNS[query.order_field]
        clauses = _filters(query, actor)
        stmt: Select[Any]
        if after is None:
            stmt = select(Ticket, func.count().over().label("total"))  # type: ignore[assignment]
        else:
            value, last_id = after
            if query.descending:
                clauses.append(or_(column < value, and_(column == value, Ticket.id < last_id)))
            else:
                clauses.append(or_(column > value, and_(column == value, Ticket.id > last_id)))
            stmt = select(Ticket)
        ordering = (column.desc(), Ticket.id.desc()) if query.descending else (column, Ticket.id)
        rows = (
            await self.session.execute(stmt.where(*clauses).order_by(*ordering).limit(limit))
        ).all()
        tickets = [row[0] for row in rows]
        if after is None:
            return tickets, (rows[0][1] if rows else 0)
        return tickets, None

    async def count(self, query: TicketQuery, actor: Actor) -> int:
        stmt = select(func.count()).select_from(Ticket).where(*_filters(query, actor))
        return int(await self.session.scalar(stmt) or 0)

    async def events_for(
        self,
        ticket_ids: Sequence[int],
        *,
        include_internal: bool,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int,
        newest_first: bool = False,
    ) -> dict[int, list[TicketEvent]]:
        """Up to `limit` events per ticket for many tickets in one statement."""
        if not ticket_ids:
            return {}
        order = TicketEvent.seq.desc() if newest_first else TicketEvent.seq
        rank = func.row_number().over(partition_by=TicketEvent.ticket_id, order_by=order)
        clauses: list[ColumnElement[bool]] = [TicketEvent.ticket_id.in_(set(ticket_ids))]
        if not include_internal:
            clauses.append(TicketEvent.internal == false())
        if after_seq is not None:
            clauses.append(TicketEvent.seq > after_seq)
        if before_seq is not None:
            clauses.append(TicketEvent.seq < before_seq)
        ranked = select(TicketEvent, rank.label("rank")).where(*clauses).subquery()
        event = aliased(TicketEvent, ranked)
        rows = await self.session.scalars(
            select(event).where(ranked.c.rank <= limit).order_by(event.ticket_id, event.seq)
        )
        found: dict[int, list[TicketEvent]] = {tid: [] for tid in ticket_ids}
        for row in rows:
            found[row.ticket_id].append(row)
        return found

    async def count_events(
        self, ticket_ids: Sequence[int], *, include_internal: bool
    ) -> dict[int, int]:
        clauses: list[ColumnElement[bool]] = [TicketEvent.ticket_id.in_(set(ticket_ids))]
        if not include_internal:
            clauses.append(TicketEvent.internal == false())
        rows = await self.session.execute(
            select(TicketEvent.ticket_id, func.count())
            .where(*clauses)
            .group_by(TicketEvent.ticket_id)
        )
        found = dict.fromkeys(ticket_ids, 0)
        found.update({tid: int(n) for tid, n in rows})
        return found

    async def comments_for(
        self,
        ticket_ids: Sequence[int],
        *,
        include_internal: bool,
        after_id: int | None,
        limit: int,
    ) -> dict[int, list[Comment]]:
        if not ticket_ids:
            return {}
        rank = func.row_number().over(partition_by=Comment.ticket_id, order_by=Comment.id)
        clauses: list[ColumnElement[bool]] = [
            Comment.ticket_id.in_(set(ticket_ids)),
            Comment.deleted_at.is_(None),
        ]
        if not include_internal:
            clauses.append(Comment.internal == false())
        if after_id is not None:
            clauses.append(Comment.id > after_id)
        ranked = select(Comment, rank.label("rank")).where(*clauses).subquery()
        comment = aliased(Comment, ranked)
        rows = await self.session.scalars(
            select(comment).where(ranked.c.rank <= limit).order_by(comment.ticket_id, comment.id)
        )
        found: dict[int, list[Comment]] = {tid: [] for tid in ticket_ids}
        for row in rows:
            found[row.ticket_id].append(row)
        return found

    async def count_comments(
        self, ticket_ids: Sequence[int], *, include_internal: bool
    ) -> dict[int, int]:
        clauses: list[ColumnElement[bool]] = [
            Comment.ticket_id.in_(set(ticket_ids)),
            Comment.deleted_at.is_(None),
        ]
        if not include_internal:
            clauses.append(Comment.internal == false())
        rows = await self.session.execute(
            select(Comment.ticket_id, func.count()).where(*clauses).group_by(Comment.ticket_id)
        )
        found = dict.fromkeys(ticket_ids, 0)
        found.update({tid: int(n) for tid, n in rows})
        return found

    async def comment(self, comment_id: int) -> Comment | None:
        found = await self.session.get(Comment, comment_id)
        return found if found is not None and found.deleted_at is None else None

    async def event(self, event_id: int) -> TicketEvent | None:
        return await self.session.get(TicketEvent, event_id)

    async def chain(self, ticket_id: int | None = None) -> list[TicketEvent]:
        query = select(TicketEvent).order_by(TicketEvent.ticket_id, TicketEvent.seq)
        if ticket_id is not None:
            query = query.where(TicketEvent.ticket_id == ticket_id)
        return list(await self.session.scalars(query))

    async def chain_heads(self, ticket_id: int | None = None) -> dict[int, tuple[int, str]]:
        """Each ticket's newest event as its row records it: (seq, hash)."""
        query = select(Ticket.id, Ticket.event_seq, Ticket.last_event_hash)
        if ticket_id is not None:
            query = query.where(Ticket.id == ticket_id)
        rows = await self.session.execute(query)
        return {tid: (seq, digest) for tid, seq, digest in rows}

    def add(self, obj: Ticket | TicketEvent | Comment) -> None:
        self.session.add(obj)
