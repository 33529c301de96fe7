"""`sets demo --tickets N`: many realistic tickets, fast. Rows are built in Python with the
same invariants the use cases keep (hash-chained events, event_seq, SLA state as if every
sweep had run) and written in bulk: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from sets.domain import sla
from sets.domain.audit import GENESIS, event_hash
from sets.domain.enums import EventKind, Priority, Role, TicketStatus
from sets.models import Category, Comment, Team, TeamMembership, Ticket, TicketEvent, User
from sets.repositories.catalog import CatalogRepository
from sets.services.container import Services
from sets.services.sla import PolicyBook

BATCH = 5_000
STATUSES: Sequence[tuple[TicketStatus, int]] = (
    (TicketStatus.NEW, 15),
    (TicketStatus.TODO, 15),
    (TicketStatus.IN_PROGRESS, 25),
    (TicketStatus.PENDING, 10),
    (TicketStatus.RESOLVED, 15),
    (TicketStatus.CLOSED, 20),
)
PRIORITIES: Sequence[tuple[Priority, int]] = (
    (Priority.P1, 5),
    (Priority.P2, 20),
    (Priority.P3, 50),
    (Priority.P4, 25),
)
SUBJECTS = (
    "Printer offline",
    "VPN disconnects",
    "Card terminal declines payments",
    "Laptop will not boot",
    "Cannot log in to the portal",
    "Email stuck in outbox",
    "Monitor flickers",
    "Shared drive is slow",
    "Phone has no dial tone",
    "Invoice export fails",
)
PLACES = ("on floor 2", "at the front desk", "in the clinic", "for the night shift", "again")


@dataclass(frozen=True)
class People:
    requesters: list[int]
    agents_by_team: dict[int, list[int]]
    categories: list[tuple[int, int | None]]  # (category id, routed team id)


@dataclass
class BulkResult:
    tickets: int = 0
    events: int = 0
    comments: int = 0


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


async def _people(conn: AsyncConnection) -> People:
    requesters = list(
        (await conn.execute(select(User.id).where(User.role == Role.REQUESTER))).scalars()
    )
    agents: dict[int, list[int]] = {}
    rows = await conn.execute(
        select(TeamMembership.team_id, User.id)
        .join(User, User.id == TeamMembership.user_id)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(User.active.is_(True), Team.external.is_(False))
    )
    for team_id, user_id in rows:
        agents.setdefault(team_id, []).append(user_id)
    categories = [
        (c, t)
        for c, t in await conn.execute(
            select(Category.id, Category.team_id).where(Category.deleted_at.is_(None))
        )
    ]
    if not requesters or not categories:
        raise RuntimeError("load the demo data first (users and categories)")
    return People(requesters, agents, categories)


class TicketFactory:
    def __init__(self, people: People, book: PolicyBook, now: datetime, rng: random.Random) -> None:
        self._people = people
        self._book = book
        self._now = now
        self._rng = rng

    def build(
        self, ticket_id: int, first_event_id: int, first_comment_id: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self._rng
        status: TicketStatus = _pick(rng, STATUSES)
        priority: Priority = _pick(rng, PRIORITIES)
        category_id, team_id = rng.choice(self._people.categories)
        requester = rng.choice(self._people.requesters)
        created = self._now - timedelta(minutes=rng.randint(10, 90 * 24 * 60))
        team_agents = self._people.agents_by_team.get(team_id or -1, [])
        assignee = (
            rng.choice(team_agents) if status is not TicketStatus.NEW and team_agents else None
        )
        title = f"{rng.choice(SUBJECTS)} {rng.choice(PLACES)}"
        events: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        moment = created
        prev = GENESIS

        def event(
            kind: str, actor: int | None, data: dict[str, Any], internal: bool = False
        ) -> None:
            nonlocal prev, moment
            seq = len(events) + 1
            digest = event_hash(
                prev_hash=prev,
                ticket_id=ticket_id,
                seq=seq,
                kind=kind,
                actor_id=actor,
                data=data,
                created_at=moment,
            )
            events.append(
                {
                    "id": first_event_id + len(events),
                    "ticket_id": ticket_id,
                    "seq": seq,
                    "kind": kind,
                    "actor_id": actor,
                    "internal": False,
                    "data": data,
                    "created_at": moment,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
            moment = min(self._now, moment + timedelta(minutes=rng.randint(1, 240)))

        event(
            EventKind.CREATED,
            requester,
            {"title": title, "status": "NEW", "priority": priority.value, "teamId": team_id},
        )
        responded_at = None
        path = _path_to(status)
        if assignee is not None:
            event(EventKind.ASSIGNED, assignee, {"from": None, "to": assignee, "toTeam": team_id})
        previous = TicketStatus.NEW
        for step in path:
            if step is TicketStatus.IN_PROGRESS and responded_at is None and assignee:
                comment_id = first_comment_id + len(comments)
                comments.append(
                    {
                        "id": comment_id,
                        "ticket_id": ticket_id,
                        "author_id": assignee,
                        "body": "Thanks, looking into it.",
                        "internal": False,
                        "created_at": moment,
                    }
                )
                responded_at = moment
                event(EventKind.COMMENTED, assignee, {"commentId": comment_id, "internal": False})
            actor = requester if step is TicketStatus.CLOSED else assignee
            data: dict[str, Any] = {"from": previous.value, "to": step.value, "reason": None}
            if step is TicketStatus.RESOLVED:
                data["resolution"] = "Fixed."
            event(EventKind.STATUS_CHANGED, actor, data)
            previous = step
        resolved_at = next(
            (e["created_at"] for e in events if e["data"].get("to") == "RESOLVED"), None
        )
        closed_at = events[-1]["created_at"] if status is TicketStatus.CLOSED else None
        policy = self._book[priority]
        state = sla.SlaState(created_at=created, first_responded=responded_at is not None)
        if policy.stops_clock(status):
            state = replace(state, stopped_since=events[-1]["created_at"])
        # As if every sweep had run: flags for what has come due by now, no backlog.
        for due in sla.due_steps(state, policy, self._now):
            if due.kind is sla.StepKind.FIRST_RESPONSE_BREACH:
                state = replace(state, first_response_breached=True)
            elif due.kind is sla.StepKind.RESOLUTION_WARNING:
                state = replace(state, warned=True)
            elif due.kind is sla.StepKind.RESOLUTION_BREACH:
                state = replace(state, resolution_breached=True, warned=True)
            elif due.level is not None:
                state = replace(state, escalation_level=due.level)
        deadlines = sla.deadlines(state, policy)
        ticket = {
            "id": ticket_id,
            "title": title,
            "description": f"Reported {created:%Y-%m-%d}: {title.lower()}.",
            "status": status.value,
            "priority": priority.value,
            "urgency": None,
            "category_id": category_id,
            "requester_id": requester,
            "assignee_id": assignee,
            "team_id": team_id,
            "version": len(events),
            "event_seq": len(events),
            "last_event_hash": prev,
            "resolution": "Fixed." if resolved_at else None,
            "work_started": TicketStatus.IN_PROGRESS in path,
            "reopen_count": 0,
            "escalation_level": state.escalation_level,
            "first_response_due_at": deadlines.first_response_due_at,
            "resolution_due_at": deadlines.resolution_due_at,
            "first_responded_at": responded_at,
            "first_response_breached": state.first_response_breached,
            "resolution_warned": state.warned,
            "resolution_breached": state.resolution_breached,
            "next_sla_check_at": sla.next_check_at(state, policy),
            "sla_stopped_seconds": 0,
            "sla_stopped_since": state.stopped_since,
            "created_at": created,
            "updated_at": events[-1]["created_at"],
            "resolved_at": resolved_at,
            "closed_at": closed_at,
            "deleted_at": None,
        }
        return ticket, events, comments


def _path_to(status: TicketStatus) -> list[TicketStatus]:
    S = TicketStatus
    return {
        S.NEW: [],
        S.TODO: [S.TODO],
        S.IN_PROGRESS: [S.TODO, S.IN_PROGRESS],
        S.PENDING: [S.TODO, S.IN_PROGRESS, S.PENDING],
        S.BLOCKED: [S.TODO, S.IN_PROGRESS, S.BLOCKED],
        S.RESOLVED: [S.TODO, S.IN_PROGRESS, S.RESOLVED],
        S.CLOSED: [S.TODO, S.IN_PROGRESS, S.RESOLVED, S.CLOSED],
    }[status]


async def load_tickets(
    services: Services,
    count: int,
    *,
    seed: int = 42,
    progress: Callable[[int, int], None] | None = None,
) -> BulkResult:
    """Append `count` tickets (with their events and comments) to a database holding the
    demo users and categories."""
    rng = random.Random(seed)
    now = services.clock.now()
    result = BulkResult()
    engine = services.db.engine
    async with engine.connect() as conn:
        people = await _people(conn)
        async with services.db.reader() as session:
            book = await PolicyBook.load(CatalogRepository(session))
        next_ticket = await _next_id(conn, Ticket.id)
        next_event = await _next_id(conn, TicketEvent.id)
        next_comment = await _next_id(conn, Comment.id)
    factory = TicketFactory(people, book, now, rng)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        tickets: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        for _ in range(size):
            ticket, ticket_events, ticket_comments = factory.build(
                next_ticket, next_event, next_comment
            )
            tickets.append(ticket)
            events.extend(ticket_events)
            comments.extend(ticket_comments)
            next_ticket += 1
            next_event += len(ticket_events)
            next_comment += len(ticket_comments)
        async with engine.begin() as conn:
            await _write(conn, "tickets", tickets)
            await _write(conn, "comments", comments)
            await _write(conn, "ticket_events", events)
        done += size
        result.tickets += size
        result.events += len(events)
        result.comments += len(comments)
        if progress:
            progress(done, count)
    if services.db.dialect == "postgresql":
        async with engine.begin() as conn:
            for table in ("tickets", "ticket_events", "comments"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
            await conn.execute(text("ANALYZE tickets"))
            await conn.execute(text("ANALYZE ticket_events"))
    return result


async def _next_id(conn: AsyncConnection, column: Any) -> int:
    return int(await conn.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1


async def _write(conn: AsyncConnection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        import json

        raw = await conn.get_raw_connection()
        columns = list(rows[0])
        records = [tuple(json.dumps(r[c]) if c == "data" else r[c] for c in columns) for r in rows]
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table, records=records, columns=columns
        )
        return
    from sets.models import Base

    await conn.execute(Base.metadata.tables[table].insert(), rows)


def print_progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} tickets")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
