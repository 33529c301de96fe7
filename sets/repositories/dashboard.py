"""The dashboard's ticket lists in one statement: a UNION ALL of small ordered, limited
selects, each with its own total (a window count taken before the LIMIT)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from sets.domain.actor import Actor
from sets.domain.enums import TicketStatus
from sets.models import Ticket
from sets.repositories.tickets import visibility_clause

MINE = "mine"
QUEUE = "queue"
RESOLVED = "resolved"
BREACHING = "breaching"
OPEN = [s for s in TicketStatus if s.is_open]
DONE = [TicketStatus.RESOLVED, TicketStatus.CLOSED]


@dataclass(frozen=True)
class DashboardQuery:
    now: datetime
    breaching_before: datetime  # due before this moment counts as "soon"
    resolved_since: datetime
    limit: int


def next_due() -> ColumnElement[datetime]:
    """The SLA moment a ticket is racing now: its first response until one is given (or
    that target is lost), then its resolution."""
    return case(
        (
            and_(Ticket.first_responded_at.is_(None), ~Ticket.first_response_breached),
            Ticket.first_response_due_at,
        ),
        else_=Ticket.resolution_due_at,
    )


class DashboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lists(
        self, actor: Actor, query: DashboardQuery
    ) -> dict[str, tuple[list[Ticket], int]]:
        base: list[ColumnElement[bool]] = [Ticket.deleted_at.is_(None)]
        seen = visibility_clause(actor)
        if seen is not None:
            base.append(seen)
        me = actor.user_id
        # list name -> (conditions, order)
        parts: dict[str, tuple[list[ColumnElement[bool]], list[Any]]] = {}
        if actor.is_staff:
            # Admins watch every queue; everyone else their own tickets and their teams'.
            mine_or_team = (
                None
                if actor.is_admin
                else or_(Ticket.assignee_id == me, Ticket.team_id.in_(sorted(actor.team_ids)))
            )
            scoped = [mine_or_team] if mine_or_team is not None else []
            queue_scope = [] if actor.is_admin else [Ticket.team_id.in_(sorted(actor.team_ids))]
            due = next_due()
            parts[MINE] = (
                [Ticket.assignee_id == me, Ticket.status.in_(OPEN)],
                [Ticket.resolution_due_at, Ticket.id],
            )
            parts[QUEUE] = (
                [Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN), *queue_scope],
                [Ticket.priority, Ticket.created_at, Ticket.id],
            )
            parts[RESOLVED] = (
                [Ticket.status.in_(DONE), Ticket.resolved_at >= query.resolved_since, *scoped],
                [Ticket.resolved_at.desc(), Ticket.id.desc()],
            )
            parts[BREACHING] = (
                [
                    Ticket.status.in_(OPEN),
                    Ticket.sla_stopped_since.is_(None),
                    ~Ticket.resolution_breached,
                    due >= query.now,
                    due < query.breaching_before,
                    *scoped,
                ],
                [due, Ticket.id],
            )
        else:
            parts[MINE] = (
                [Ticket.requester_id == me, Ticket.status.in_(OPEN)],
                [Ticket.updated_at.desc(), Ticket.id.desc()],
            )
            parts[RESOLVED] = (
                [
                    Ticket.requester_id == me,
                    Ticket.status.in_(DONE),
                    Ticket.resolved_at >= query.resolved_since,
                ],
                [Ticket.resolved_at.desc(), Ticket.id.desc()],
            )
        selects = []
        for name, (where, order) in parts.items():
            ranked = (
                select(
                    *Ticket.__table__.c,
                    literal_column(f"'{name}'", String).label("list"),
                    func.row_number().over(order_by=order).label("pos"),
                    func.count().over().label("total"),
                )
                .where(*base, *where)
                .order_by(*order)
                .limit(query.limit)
                .subquery()
            )
            selects.append(select(ranked))
        found: dict[str, tuple[list[Ticket], int]] = {name: ([], 0) for name in parts}
        if not selects:
            return found
        lists = union_all(*selects).subquery("lists")
        ticket = aliased(Ticket, lists)
        rows = await self.session.execute(
            select(ticket, lists.c.list, lists.c.total).order_by(lists.c.list, lists.c.pos)
        )
        for row, name, total in rows:
            tickets, _ = found[name]
            tickets.append(row)
            found[name] = (tickets, int(total))
        return found
