"""Team analytics: translation of sets.services.analytics, which says exactly which tickets
each figure covers."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from sets.domain.enums import Priority, TicketStatus
from sets.domain.errors import DomainError
from sets.schema.context import Info
from sets.schema.errors import coded_error
from sets.schema.tickets import optional_pk
from sets.schema.types import Category, Team, User
from sets.services import analytics as report


@strawberry.input(description="Whole local days, both included, in the report's time zone.")
class DateRange:
    from_: date = strawberry.field(name="from")
    to: date


@strawberry.type
class StatusCount:
    status: TicketStatus
    count: int


@strawberry.type
class PriorityCount:
    priority: Priority
    count: int


@strawberry.type
class CategoryCount:
    category_pk: strawberry.Private[int | None]
    count: int

    @strawberry.field(description="Null: tickets without a category.")
    async def category(self, info: Info) -> Category | None:
        if self.category_pk is None:
            return None
        row = await info.context.loaders.categories.load(self.category_pk)
        return Category.from_row(row) if row else None


@strawberry.type(description="Tickets created and resolved on one local day.")
class DayCount:
    date: date
    created: int
    resolved: int


@strawberry.type(description="Wall-clock durations in seconds; null when there is no value.")
class DurationStats:
    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, stats: report.DurationStats) -> DurationStats:
        return cls(
            count=stats.count,
            mean_seconds=stats.mean,
            median_seconds=stats.median,
            p90_seconds=stats.p90,
        )


@strawberry.type(description="Decided targets only: met, or breached; null percent if none.")
class SlaTarget:
    met: int
    breached: int
    percent: float | None

    @classmethod
    def of(cls, compliance: report.Compliance) -> SlaTarget:
        return cls(met=compliance.met, breached=compliance.breached, percent=compliance.percent)


@strawberry.type
class SlaCompliance:
    first_response: SlaTarget
    resolution: SlaTarget


@strawberry.type
class EscalationCount:
    level: int
    count: int


@strawberry.type(description="Of the tickets resolved at least once, how many were reopened.")
class ReopenRate:
    resolved: int
    reopened: int
    percent: float | None


@strawberry.type(
    description="Customer satisfaction: ratings (1-5) given in the window; average null "
    "without any."
)
class Csat:
    count: int
    average: float | None


@strawberry.type
class AgentWorkload:
    agent: User
    open_tickets: int
    overdue_tickets: int = strawberry.field(
        description="Open tickets past their resolution target (or flagged as breached)."
    )
    time_logged_minutes: int = strawberry.field(
        description="Minutes logged in the window on tickets in scope (by when the time was "
        "spent; running timers and deleted entries excluded)."
    )


@strawberry.type(
    description="Figures for tickets of the given teams (managers: their own; admins: any). "
    "Counts by status/priority/category, first-response time, SLA compliance and reopen rate "
    "cover tickets created in the range; resolution time and `resolved` per day, tickets "
    "resolved in it; escalations, those that happened in it; workload, open tickets now."
)
class Analytics:
    from_: date = strawberry.field(name="from")
    to: date
    time_zone: str
    starts_at: datetime = strawberry.field(description="The range's first instant (UTC).")
    ends_at: datetime = strawberry.field(description="The instant after the range (UTC).")
    team_pks: strawberry.Private[frozenset[int] | None]
    tickets_created: int
    by_status: list[StatusCount]
    by_priority: list[PriorityCount]
    by_category: list[CategoryCount]
    daily: list[DayCount]
    first_response_time: DurationStats
    resolution_time: DurationStats
    sla_compliance: SlaCompliance
    escalations: list[EscalationCount]
    reopen_rate: ReopenRate
    csat: Csat
    workload: list[AgentWorkload]
    unassigned_open: int

    @strawberry.field(description="The teams covered; null means every ticket (admins).")
    async def teams(self, info: Info) -> list[Team] | None:
        if self.team_pks is None:
            return None
        rows = await info.context.loaders.teams.load_many(sorted(self.team_pks))
        return [Team.from_row(r) for r in rows if r is not None]

    @classmethod
    def of(cls, found: report.AnalyticsReport) -> Analytics:
        window = found.window
        return cls(
            from_=window.first_day,
            to=window.last_day,
            time_zone=window.time_zone,
            starts_at=window.start,
            ends_at=window.end,
            team_pks=found.team_ids,
            tickets_created=found.created,
            by_status=[StatusCount(status=s, count=n) for s, n in found.by_status.items()],
            by_priority=[PriorityCount(priority=p, count=n) for p, n in found.by_priority.items()],
            by_category=[
                CategoryCount(category_pk=pk, count=n)
                for pk, n in sorted(found.by_category.items(), key=lambda kv: (-kv[1], kv[0] or 0))
            ],
            daily=[
                DayCount(date=d.day, created=d.created, resolved=d.resolved) for d in found.daily
            ],
            first_response_time=DurationStats.of(found.first_response),
            resolution_time=DurationStats.of(found.resolution),
            sla_compliance=SlaCompliance(
                first_response=SlaTarget.of(found.first_response_sla),
                resolution=SlaTarget.of(found.resolution_sla),
            ),
            escalations=[
                EscalationCount(level=level, count=n) for level, n in found.escalations.items()
            ],
            reopen_rate=ReopenRate(
                resolved=found.resolved_once,
                reopened=found.reopened,
                percent=found.reopen_percent,
            ),
            csat=Csat(count=found.csat_count, average=found.csat_average),
            workload=[
                AgentWorkload(
                    agent=User.from_row(a.user),
                    open_tickets=a.open_tickets,
                    overdue_tickets=a.overdue_tickets,
                    time_logged_minutes=a.time_logged_minutes,
                )
                for a in found.workload
            ],
            unassigned_open=found.unassigned_open,
        )


@strawberry.type
class AnalyticsQueries:
    @strawberry.field(description="Team analytics for managers (their teams) and admins.")
    async def analytics(
        self,
        info: Info,
        range: DateRange,
        team_id: strawberry.ID | None = None,
        category_id: strawberry.ID | None = None,
        time_zone: str = "UTC",
    ) -> Analytics:
        actor = await info.context.actor()
        try:
            found = await info.context.services.analytics.report(
                actor,
                first_day=range.from_,
                last_day=range.to,
                time_zone=time_zone,
                team_id=optional_pk(team_id, "Team", "teamId"),
                category_id=optional_pk(category_id, "Category", "categoryId"),
            )
        except DomainError as exc:
            raise coded_error(exc) from exc
        return Analytics.of(found)
