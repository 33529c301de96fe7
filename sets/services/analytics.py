"""Team analytics (SPEC §9), computed by the database (sets.repositories.analytics).

Which tickets each figure covers, for a window of whole local days:
- counts by status/priority/category, first-response time, SLA compliance and the reopen
  rate: tickets *created* in the window (their status as of now);
- created per day: by creation; resolved per day and resolution time: tickets *resolved*
  in the window (the resolution that stands now: a reopened ticket counts when resolved
  again);
- escalations per level: escalations that *happened* in the window, by the level reached;
- workload: open tickets *now*, per assignee.
- CSAT: ratings *given* in the window (count and average score, 1-5; null without any);
- time logged per agent: minutes of time entries *spent* in the window (by `spentAt`), on
  tickets in scope, deleted entries and running timers excluded.
"Team" is a ticket's current team. Durations are wall-clock (not business) time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain import analytics as rules
from sets.domain.actor import Actor
from sets.domain.clock import Clock
from sets.domain.enums import Priority, TicketStatus
from sets.models import User
from sets.repositories.analytics import AnalyticsRepository, DurationRow, Scope

ESCALATION_LEVELS = (1, 2, 3)


@dataclass(frozen=True)
class DurationStats:
    """Seconds; null without any value."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, row: DurationRow | None) -> DurationStats:
        if row is None or row.count == 0:
            return cls(0, None, None, None)
        n = row.count
        # percentile_cont: interpolate between the values around p * (n - 1).
        median = _between(row.median_low, row.median_high, 0.5 if n % 2 == 0 else 0.0)
        p90 = _between(row.p90_low, row.p90_high, (9 * (n - 1) % 10) / 10)
        return cls(n, row.mean, median, p90)


def _between(low: float | None, high: float | None, fraction: float) -> float | None:
    if low is None or high is None:
        return None
    return low + (high - low) * fraction


@dataclass(frozen=True)
class Compliance:
    met: int
    breached: int

    @property
    def percent(self) -> float | None:
        decided = self.met + self.breached
        return None if decided == 0 else 100.0 * self.met / decided


@dataclass(frozen=True)
class DayFigures:
    day: date
    created: int
    resolved: int


@dataclass(frozen=True)
class AgentLoad:
    user: User
    open_tickets: int
    overdue_tickets: int
    time_logged_minutes: int = 0


@dataclass(frozen=True)
class AnalyticsReport:
    window: rules.ReportWindow
    team_ids: frozenset[int] | None
    category_id: int | None
    created: int
    by_status: dict[TicketStatus, int]
    by_priority: dict[Priority, int]
    by_category: dict[int | None, int]
    daily: list[DayFigures]
    first_response: DurationStats
    resolution: DurationStats
    first_response_sla: Compliance
    resolution_sla: Compliance
    escalations: dict[int, int]
    resolved_once: int
    reopened: int
    workload: list[AgentLoad]
    unassigned_open: int
    csat_count: int = 0
    csat_average: float | None = None

    @property
    def reopen_percent(self) -> float | None:
        return None if self.resolved_once == 0 else 100.0 * self.reopened / self.resolved_once


class AnalyticsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def report(
        self,
        actor: Actor,
        *,
        first_day: date,
        last_day: date,
        time_zone: str = "UTC",
        team_id: int | None = None,
        category_id: int | None = None,
    ) -> AnalyticsReport:
        teams = rules.analytics_teams(actor, team_id)
        window = rules.report_window(first_day, last_day, time_zone)
        scope = Scope(team_ids=teams, category_id=category_id)
        now = self._clock.now()
        async with self._sessions() as session:
            repo = AnalyticsRepository(session)
            counts = await repo.breakdown(window, scope)
            daily = await repo.daily(window, scope)
            durations = await repo.durations(window, scope)
            sla = await repo.sla(window, scope, now)
            escalations = await repo.escalations(window, scope)
            load = await repo.open_load(scope, now)
            logged = await repo.time_logged(window, scope)
            people = await repo.agents(scope, [a for a in load if a is not None] + list(logged))
            csat_count, csat_average = await repo.csat(window, scope)
        return AnalyticsReport(
            window=window,
            team_ids=teams,
            category_id=category_id,
            created=sum(counts["status"].values()),
            by_status={s: counts["status"].get(s.value, 0) for s in TicketStatus},
            by_priority={p: counts["priority"].get(p.value, 0) for p in Priority},
            by_category={
                (int(key) if key is not None else None): n for key, n in counts["category"].items()
            },
            daily=[
                DayFigures(
                    day,
                    daily.get(("created", rules.day_number(day)), 0),
                    daily.get(("resolved", rules.day_number(day)), 0),
                )
                for day in window.days
            ],
            first_response=DurationStats.of(durations.get("first_response")),
            resolution=DurationStats.of(durations.get("resolution")),
            first_response_sla=Compliance(sla.first_response_met, sla.first_response_breached),
            resolution_sla=Compliance(sla.resolution_met, sla.resolution_breached),
            escalations={level: escalations.get(level, 0) for level in ESCALATION_LEVELS},
            resolved_once=sla.ever_resolved,
            reopened=sla.reopened,
            workload=sorted(
                (AgentLoad(u, *load.get(u.id, (0, 0)), logged.get(u.id, 0)) for u in people),
                key=lambda a: (-a.open_tickets, a.user.name, a.user.id),
            ),
            unassigned_open=load.get(None, (0, 0))[0],
            csat_count=csat_count,
            csat_average=csat_average,
        )
