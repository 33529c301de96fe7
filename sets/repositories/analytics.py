"""Analytics in SQL (SPEC §9): every figure is an aggregate the database computes; Python
only reads the few rows back. Each method is one statement, whatever the number of tickets.

Portable pieces: `epoch_seconds` and `seconds_between` compile per dialect; local days come
from offset segments (sets.domain.analytics) as integer arithmetic; medians and p90 use
row_number() over the sorted values, as percentile_cont (linear interpolation) defines them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from sets.domain.analytics import DAY_SECONDS, OffsetSegment, ReportWindow
from sets.domain.enums import EventKind, Role, TicketStatus
from sets.models import TeamMembership, Ticket, TicketEvent, TicketRating, TimeEntry, User

OPEN = [s for s in TicketStatus if s.is_open]


class epoch_seconds(FunctionElement[int]):  # named like the SQL function it stands for
    """Whole seconds since 1970-01-01 UTC of a stored instant."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # Instants are stored as UTC text ("2026-01-05 09:00:00.000000"); %s truncates the
    # fraction, which never moves an instant across a whole-second day boundary.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(floor(extract(epoch FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


class seconds_between(FunctionElement[float]):  # named like a SQL function
    """`end - start` in seconds, rounded to the millisecond on both databases."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = (compiler.process(c, **kw) for c in element.clauses)
    return f"round((julianday({end}) - julianday({start})) * 86400.0, 3)"


@compiles(seconds_between, "postgresql")
def _between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"CAST(round(CAST(extract(epoch FROM ({end} - {start})) AS numeric), 3) "
        "AS double precision)"
    )


def local_day(column: Any, segments: Sequence[OffsetSegment]) -> ColumnElement[int]:
    """Days since 1970-01-01 of the local date of `column` (see sets.domain.analytics)."""
    seconds = epoch_seconds(column)

    def day(offset: int) -> ColumnElement[int]:
        return (seconds + offset) // DAY_SECONDS

    *bounded, last = segments
    if not bounded:
        return day(last.offset)
    return case(*((column < s.until, day(s.offset)) for s in bounded), else_=day(last.offset))


@dataclass(frozen=True)
class Scope:
    """Which tickets a report covers: None means no restriction on that dimension."""

    team_ids: frozenset[int] | None = None
    category_id: int | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [Ticket.deleted_at.is_(None)]
        if self.team_ids is not None:
            found.append(Ticket.team_id.in_(sorted(self.team_ids)))
        if self.category_id is not None:
            found.append(Ticket.category_id == self.category_id)
        return found


@dataclass(frozen=True)
class DurationRow:
    count: int
    mean: float | None
    median_low: float | None
    median_high: float | None
    p90_low: float | None
    p90_high: float | None


@dataclass(frozen=True)
class SlaRow:
    first_response_met: int
    first_response_breached: int
    resolution_met: int
    resolution_breached: int
    ever_resolved: int
    reopened: int


def _within(column: Any, window: ReportWindow) -> list[ColumnElement[bool]]:
    return [column >= window.start, column < window.end]


def _label(text: str) -> ColumnElement[str]:
    return literal_column(f"'{text}'", String)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class AnalyticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def breakdown(
        self, window: ReportWindow, scope: Scope
    ) -> dict[str, dict[str | None, int]]:
        """Tickets created in the window by status, priority and category (one statement)."""
        created = [*scope.clauses(), *_within(Ticket.created_at, window)]

        def by(name: str, column: Any) -> Select[str, str, int]:
            return (
                select(_label(name), cast(column, String), func.count())
                .where(*created)
                .group_by(column)
            )

        stmt = union_all(
            by("status", Ticket.status),
            by("priority", Ticket.priority),
            by("category", Ticket.category_id),
        )
        found: dict[str, dict[str | None, int]] = {"status": {}, "priority": {}, "category": {}}
        for dimension, key, count in await self.session.execute(stmt):
            found[dimension][key] = int(count)
        return found

    async def daily(self, window: ReportWindow, scope: Scope) -> dict[tuple[str, int], int]:
        """(\"created\" | \"resolved\", local day number) -> tickets, in one statement."""

        def per_day(kind: str, column: Any) -> Select[str, int, int]:
            days = (
                select(local_day(column, window.segments).label("day"))
                .where(*scope.clauses(), *_within(column, window))
                .subquery()
            )
            return select(_label(kind), days.c.day, func.count()).group_by(days.c.day)

        stmt = union_all(
            per_day("created", Ticket.created_at), per_day("resolved", Ticket.resolved_at)
        )
        rows = await self.session.execute(stmt)
        return {(kind, int(day)): int(count) for kind, day, count in rows}

    async def durations(self, window: ReportWindow, scope: Scope) -> dict[str, DurationRow]:
        """First-response time of tickets created in the window, resolution time of tickets
        resolved in it: count, mean and the values around the median and the p90."""
        first = select(
            _label("first_response").label("metric"),
            seconds_between(Ticket.first_responded_at, Ticket.created_at).label("v"),
        ).where(
            *scope.clauses(),
            *_within(Ticket.created_at, window),
            Ticket.first_responded_at.is_not(None),
        )
        resolution = select(
            _label("resolution").label("metric"),
            seconds_between(Ticket.resolved_at, Ticket.created_at).label("v"),
        ).where(*scope.clauses(), *_within(Ticket.resolved_at, window))
        values = union_all(first, resolution).subquery("d")
        ordered = func.row_number().over(partition_by=values.c.metric, order_by=values.c.v)
        ranked = select(
            values.c.metric,
            values.c.v,
            (ordered - 1).label("i"),
            func.count().over(partition_by=values.c.metric).label("n"),
        ).subquery("r")
        i, n, v = ranked.c.i, ranked.c.n, ranked.c.v

        def at(position: ColumnElement[int]) -> ColumnElement[float]:
            return func.max(case((i == position, v)))

        # percentile_cont(p) sits at 0-based position p * (n - 1), between floor and ceil.
        stmt = select(
            ranked.c.metric,
            func.max(n),
            func.avg(v),
            at((n - 1) // 2),
            at(n // 2),
            at((9 * (n - 1)) // 10),
            at((9 * (n - 1) + 9) // 10),
        ).group_by(ranked.c.metric)
        found: dict[str, DurationRow] = {}
        for metric, count, mean, *around in await self.session.execute(stmt):
            found[metric] = DurationRow(int(count), _float(mean), *(_float(x) for x in around))
        return found

    async def sla(self, window: ReportWindow, scope: Scope, now: datetime) -> SlaRow:
        """SLA outcomes and reopens of the tickets created in the window (one statement).
        A target counts once it is decided: met, or breached (flagged by the sweep, missed
        at the moment it was met, or overdue while the clock runs); pending ones do not."""
        t = Ticket
        running = and_(t.sla_stopped_since.is_(None), t.status.in_(OPEN))
        responded = t.first_responded_at.is_not(None)
        resolved = t.resolved_at.is_not(None)
        stmt = select(
            _count_if(
                and_(
                    responded,
                    t.first_responded_at <= t.first_response_due_at,
                    ~t.first_response_breached,
                )
            ),
            _count_if(
                or_(
                    t.first_response_breached,
                    and_(responded, t.first_responded_at > t.first_response_due_at),
                    and_(~responded, t.first_response_due_at < now, running),
                )
            ),
            _count_if(and_(resolved, t.resolved_at <= t.resolution_due_at, ~t.resolution_breached)),
            _count_if(
                or_(
                    t.resolution_breached,
                    and_(resolved, t.resolved_at > t.resolution_due_at),
                    and_(~resolved, t.resolution_due_at < now, running),
                )
            ),
            _count_if(or_(resolved, t.reopen_count > 0)),
            _count_if(t.reopen_count > 0),
        ).where(*scope.clauses(), *_within(t.created_at, window))
        row = (await self.session.execute(stmt)).one()
        return SlaRow(*(int(x) for x in row))

    async def escalations(self, window: ReportWindow, scope: Scope) -> dict[int, int]:
        """Escalations that happened in the window, by the level reached (manual or not)."""
        levels = (
            select(TicketEvent.data["to"].as_integer().label("level"))
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(
                *scope.clauses(),
                TicketEvent.kind == EventKind.ESCALATED.value,
                *_within(TicketEvent.created_at, window),
            )
            .subquery()
        )
        rows = await self.session.execute(
            select(levels.c.level, func.count()).group_by(levels.c.level)
        )
        return {int(level): int(count) for level, count in rows if level is not None}

    async def csat(self, window: ReportWindow, scope: Scope) -> tuple[int, float | None]:
        """Ratings given in the window to tickets in scope: (count, average score)."""
        row = (
            await self.session.execute(
                select(func.count(TicketRating.id), func.avg(TicketRating.score))
                .join(Ticket, Ticket.id == TicketRating.ticket_id)
                .where(*scope.clauses(), *_within(TicketRating.created_at, window))
            )
        ).one()
        return int(row[0] or 0), _float(row[1])

    async def time_logged(self, window: ReportWindow, scope: Scope) -> dict[int, int]:
        """Minutes spent in the window on tickets in scope, per person: finished entries
        (logged, or a stopped timer) that were not deleted."""
        rows = await self.session.execute(
            select(TimeEntry.user_id, func.sum(TimeEntry.minutes))
            .join(Ticket, Ticket.id == TimeEntry.ticket_id)
            .where(
                *scope.clauses(),
                *_within(TimeEntry.spent_at, window),
                TimeEntry.deleted_at.is_(None),
                TimeEntry.minutes.is_not(None),
            )
            .group_by(TimeEntry.user_id)
        )
        return {int(user): int(minutes or 0) for user, minutes in rows}

    async def open_load(self, scope: Scope, now: datetime) -> dict[int | None, tuple[int, int]]:
        """Open tickets now, per assignee (None: unassigned): (open, overdue)."""
        overdue = or_(
            Ticket.resolution_breached,
            and_(Ticket.resolution_due_at < now, Ticket.sla_stopped_since.is_(None)),
        )
        rows = await self.session.execute(
            select(Ticket.assignee_id, func.count(), _count_if(overdue))
            .where(*scope.clauses(), Ticket.status.in_(OPEN))
            .group_by(Ticket.assignee_id)
        )
        return {assignee: (int(n), int(late)) for assignee, n, late in rows}

    async def agents(self, scope: Scope, assignee_ids: Sequence[int]) -> list[User]:
        """The active staff of the scope's teams (every team when unscoped), and whoever
        holds open tickets in scope or logged time on it (`assignee_ids`)."""
        members = select(TeamMembership.user_id)
        if scope.team_ids is not None:
            members = members.where(TeamMembership.team_id.in_(sorted(scope.team_ids)))
        staff = [r for r in Role if r.is_staff]
        rows = await self.session.scalars(
            select(User)
            .where(
                or_(
                    User.id.in_(list(assignee_ids)),
                    and_(User.id.in_(members), User.active.is_(True), User.role.in_(staff)),
                )
            )
            .order_by(User.name, User.id)
        )
        return list(rows)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
