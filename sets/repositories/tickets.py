from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from sets.domain import permissions
from sets.domain.actor import Actor
from sets.domain.enums import Priority, TicketStatus
from sets.domain.errors import ValidationFailed
from sets.domain.search import parse_search
from sets.models import Comment, Ticket, TicketEvent
from sets.repositories.search import relevance, search_clause

ORDER_COLUMNS = {
    "CREATED_AT": Ticket.created_at,
    "UPDATED_AT": Ticket.updated_at,
    "PRIORITY": Ticket.priority,
    "RESOLUTION_DUE_AT": Ticket.resolution_due_at,
}
RELEVANCE = "RELEVANCE"  # ordered by search score: TicketRepository.ranked_page


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
    escalated: bool | None = None
    breached: bool | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    resolved_after: datetime | None = None
    resolved_before: datetime | None = None


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
        # Internal notes are searched for staff only (the same rule as reading them).
        terms = parse_search(query.search)
        clauses.append(search_clause(terms, staff=permissions.can_see_internal(actor)))
    if query.escalated is not None:
        clauses.append(
            Ticket.escalation_level > 0 if query.escalated else Ticket.escalation_level == 0
        )
    if query.breached is not None:
        either = or_(Ticket.first_response_breached, Ticket.resolution_breached)
        clauses.append(either if query.breached else ~either)
    ranges = [
        (Ticket.created_at, query.created_after, query.created_before),
        (Ticket.updated_at, query.updated_after, query.updated_before),
        (Ticket.resolved_at, query.resolved_after, query.resolved_before),
    ]
    for column, after, before in ranges:
        if after is not None:
            clauses.append(column >= after)
        if before is not None:
            clauses.append(column < before)
    return clauses


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
        """One page by keyset. No total here: a count over the whole filtered set would make
        every page cost as much as the table; `count()` answers totalCount when asked."""
        column = ORDER_COLUMNS[query.order_field]
        clauses = _filters(query, actor)
        if after is not None:
            value, last_id = after
            if query.descending:
                clauses.append(or_(column < value, and_(column == value, Ticket.id < last_id)))
            else:
                clauses.append(or_(column > value, and_(column == value, Ticket.id > last_id)))
        ordering = (column.desc(), Ticket.id.desc()) if query.descending else (column, Ticket.id)
        rows = await self.session.scalars(
            select(Ticket).where(*clauses).order_by(*ordering).limit(limit)
        )
        return list(rows), None

    async def ranked_page(
        self,
        query: TicketQuery,
        actor: Actor,
        *,
        after: tuple[Any, int] | None,
        limit: int,
    ) -> tuple[list[tuple[Ticket, int]], int | None]:
        """One page of a search, best match first (ties: newest first), each ticket with its
        relevance score; keyset over (score, id), so no offsets and a stable cursor."""
        score = relevance(parse_search(query.search or ""))
        clauses = _filters(query, actor)
        columns: list[Any] = [Ticket, score.label("score")]
        if after is None:
            columns.append(func.count().over().label("total"))
        else:
            value, last_id = after
            try:
                rank = int(value)
            except (TypeError, ValueError) as exc:
                raise ValidationFailed("the cursor is not valid here", field="after") from exc
            clauses.append(or_(score < rank, and_(score == rank, Ticket.id < last_id)))
        stmt = (
            select(*columns)
            .where(*clauses)
            .order_by(literal_column("score").desc(), Ticket.id.desc())
            .limit(limit)
        )
        rows = (await self.session.execute(stmt)).all()
        found = [(row[0], int(row[1])) for row in rows]
        if after is None:
            return found, (rows[0][2] if rows else 0)
        return found, None

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
    ) -> dict[int, list[EventRecord]]:
        """Up to `limit` events per ticket for many tickets in one statement."""
        if not ticket_ids:
            return {}
        statement = _events_statement(
            include_internal, after_seq is not None, before_seq is not None, newest_first
        )
        params: dict[str, Any] = {"ids": sorted(set(ticket_ids)), "limit": limit}
        if after_seq is not None:
            params["after_seq"] = after_seq
        if before_seq is not None:
            params["before_seq"] = before_seq
        rows = await self.session.execute(statement, params)
        found: dict[int, list[EventRecord]] = {tid: [] for tid in ticket_ids}
        for row in rows:
            found[row.ticket_id].append(cast(EventRecord, row))
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

    async def visible_events(
        self,
        query: EventQuery,
        actor: Actor,
        *,
        include_internal: bool,
        after_id: int | None = None,
        ids: Sequence[int] | None = None,
        limit: int,
    ) -> list[TicketEvent]:
        """Events across tickets, by ascending global id, of tickets the actor may see
        (`visibility_clause`, as for ticket lists) that match the query as they stand now."""
        clauses: list[ColumnElement[bool]] = [Ticket.deleted_at.is_(None)]
        seen = visibility_clause(actor)
        if seen is not None:
            clauses.append(seen)
        if not include_internal:
            clauses.append(TicketEvent.internal == false())
        if after_id is not None:
            clauses.append(TicketEvent.id > after_id)
        if ids is not None:
            clauses.append(TicketEvent.id.in_(list(ids)))
        pairs: list[tuple[Any, Sequence[Any]]] = [
            (Ticket.id, query.ticket_ids),
            (Ticket.team_id, query.team_ids),
            (Ticket.assignee_id, query.assignee_ids),
            (Ticket.status, query.statuses),
        ]
        for column, values in pairs:
            if values:
                clauses.append(column.in_(list(values)))
        rows = await self.session.scalars(
            select(TicketEvent)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(*clauses)
            .order_by(TicketEvent.id)
            .limit(limit)
        )
        return list(rows)

    async def events_with_tickets(self, ids: Sequence[int]) -> list[tuple[TicketEvent, Ticket]]:
        rows = await self.session.execute(
            select(TicketEvent, Ticket)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.id.in_(list(ids)))
        )
        return [(event, ticket) for event, ticket in rows]

    async def latest_event_id(self) -> int:
        return int(await self.session.scalar(select(func.max(TicketEvent.id))) or 0)


@dataclass(frozen=True)
class EventQuery:
    """Which events a live feed wants; lists match any of their values."""

    ticket_ids: Sequence[int] = ()
    team_ids: Sequence[int] = ()
    assignee_ids: Sequence[int] = ()
    statuses: Sequence[TicketStatus] = ()

    def matches(self, ticket: Ticket) -> bool:
        """The same test as the SQL in `visible_events`, on a loaded ticket."""
        pairs: list[tuple[Any, Sequence[Any]]] = [
            (ticket.id, self.ticket_ids),
            (ticket.team_id, self.team_ids),
            (ticket.assignee_id, self.assignee_ids),
            (ticket.status, self.statuses),
        ]
        return all(not values or value in values for value, values in pairs)


class EventRecord(Protocol):
    """An event as lists read it: a plain row of the columns below, not an ORM object
    (`events_for`); read-only."""

    id: int
    ticket_id: int
    seq: int
    kind: str
    actor_id: int | None
    internal: bool
    data: dict[str, Any] | None
    created_at: datetime


EVENT_RECORD_COLUMNS = (
    "id",
    "ticket_id",
    "seq",
    "kind",
    "actor_id",
    "internal",
    "data",
    "created_at",
)


@functools.cache
def _events_statement(
    include_internal: bool, after: bool, before: bool, newest_first: bool
) -> Select[Any]:
    """The windowed events query, built once per shape (values are bound parameters):
    building the ranked subquery and its alias took longer than running it. It selects
    plain columns: loading a dashboard's 150 events as ORM objects took twice as long."""
    table = TicketEvent.__table__
    order = table.c.seq.desc() if newest_first else table.c.seq
    rank = func.row_number().over(partition_by=table.c.ticket_id, order_by=order)
    clauses: list[ColumnElement[bool]] = [table.c.ticket_id.in_(bindparam("ids", expanding=True))]
    if not include_internal:
        clauses.append(table.c.internal == false())
    if after:
        clauses.append(table.c.seq > bindparam("after_seq"))
    if before:
        clauses.append(table.c.seq < bindparam("before_seq"))
    columns = [table.c[name] for name in EVENT_RECORD_COLUMNS]
    ranked = select(*columns, rank.label("rank")).where(*clauses).subquery()
    return (
        select(*(ranked.c[name] for name in EVENT_RECORD_COLUMNS))
        .where(ranked.c.rank <= bindparam("limit"))
        .order_by(ranked.c.ticket_id, ranked.c.seq)
    )
