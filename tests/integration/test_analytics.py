"""Analytics figures against values computed by hand, on SQLite and PostgreSQL.

The fixed data set (times UTC; the demo's own tickets sit on 2026-01-05, outside):
  A  Hardware P3  created Feb 2 10:00  replied 10:30 (1800 s)  resolved 14:00 (14400 s)
  B  Payment  P1  created Feb 2 23:30  replied 00:30 (3600 s, late: 15 min target)
                  resolved Feb 3 03:30, reopened by Carl 03:45, resolved 04:30 (18000 s, late)
  G  Hardware P3  created Feb 3 06:00  replied 06:10 (600 s)   resolved 07:00 (3600 s)
  C  General  P3  created Feb 3 12:00  never answered; escalated to 1 at 13:00, 2 at 14:00
  F  General  P3  created Feb 4 02:00  (= Feb 3 21:00 in New York)
"Now" is Feb 4 11:00: C's first response (due Feb 3 16:00) is overdue, its resolution (due
Feb 4 12:00) still pending.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sets.domain.actor import Actor
from sets.domain.clock import FixedClock
from sets.domain.enums import Priority, TicketStatus
from sets.domain.errors import ErrorCode
from sets.services.analytics import AnalyticsReport
from tests.integration.support import Demo, raises_domain

FEB2, FEB3 = date(2026, 2, 2), date(2026, 2, 3)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 2, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def data(demo: Demo, clock: FixedClock) -> dict[str, int]:
    t = demo.services.tickets
    hardware, payment = demo.categories["Hardware"], demo.categories["Payment"]
    me = demo.agent.user_id

    async def answered(
        name: str, created: datetime, replied: datetime, category: int, by: Actor
    ) -> int:
        clock.set(created)
        ticket = await t.create(by, title=name, description="x", category_id=category)
        clock.set(replied)
        await t.assign(demo.agent, ticket.id, assignee_id=me)
        await t.add_comment(demo.agent, ticket.id, body="On it.")
        await t.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
        return ticket.id

    async def resolve(ticket_id: int, moment: datetime) -> None:
        clock.set(moment)
        await t.transition(demo.agent, ticket_id, TicketStatus.RESOLVED, resolution="Fixed.")

    a = await answered("A", at(2, 10), at(2, 10, 30), hardware, demo.rita)
    await resolve(a, at(2, 14))
    b = await answered("B", at(2, 23, 30), at(3, 0, 30), payment, demo.carl)
    await resolve(b, at(3, 3, 30))
    clock.set(at(3, 3, 45))
    await t.transition(demo.carl, b, TicketStatus.IN_PROGRESS, reason="Still declining.")
    await resolve(b, at(3, 4, 30))
    g = await answered("G", at(3, 6), at(3, 6, 10), hardware, demo.rita)
    await resolve(g, at(3, 7))
    clock.set(at(3, 12))
    c = (await t.create(demo.rita, title="C", description="x")).id
    for hour in (13, 14):
        clock.set(at(3, hour))
        await t.escalate(demo.admin, c, reason="Nobody answers.")
    clock.set(at(4, 2))
    f = (await t.create(demo.carl, title="F", description="x")).id
    clock.set(at(4, 11))
    assert (await demo.ticket(b)).priority is Priority.P1
    return {"A": a, "B": b, "C": c, "F": f, "G": g}


async def report(
    demo: Demo,
    *,
    actor: Actor | None = None,
    first_day: date = FEB2,
    last_day: date = FEB3,
    time_zone: str = "UTC",
    team_id: int | None = None,
    category_id: int | None = None,
) -> AnalyticsReport:
    return await demo.services.analytics.report(
        actor or demo.admin,
        first_day=first_day,
        last_day=last_day,
        time_zone=time_zone,
        team_id=team_id,
        category_id=category_id,
    )


async def test_figures_for_two_utc_days(demo: Demo, data: dict[str, int]) -> None:
    r = await report(demo)
    assert r.created == 4  # A, B, G, C
    assert {s: n for s, n in r.by_status.items() if n} == {
        TicketStatus.RESOLVED: 3,
        TicketStatus.NEW: 1,
    }
    assert r.by_priority == {Priority.P1: 1, Priority.P2: 0, Priority.P3: 3, Priority.P4: 0}
    cats = demo.categories
    assert r.by_category == {cats["Hardware"]: 2, cats["Payment"]: 1, cats["General"]: 1}
    assert [(d.day, d.created, d.resolved) for d in r.daily] == [(FEB2, 2, 1), (FEB3, 2, 2)]

    fr = r.first_response  # 600, 1800, 3600
    assert (fr.count, fr.mean, fr.median) == (3, 2000.0, 1800.0)
    assert fr.p90 == pytest.approx(1800 + 0.8 * 1800)  # position 0.9 * 2 = 1.8
    res = r.resolution  # 3600 (G), 14400 (A), 18000 (B)
    assert (res.count, res.mean, res.median) == (3, 12000.0, 14400.0)
    assert res.p90 == pytest.approx(14400 + 0.8 * 3600)

    assert (r.first_response_sla.met, r.first_response_sla.breached) == (2, 2)  # B late, C
    assert r.first_response_sla.percent == 50.0
    assert (r.resolution_sla.met, r.resolution_sla.breached) == (2, 1)  # B late; C pending
    assert r.resolution_sla.percent == pytest.approx(200 / 3)
    assert r.escalations == {1: 1, 2: 1, 3: 0}
    assert (r.resolved_once, r.reopened) == (3, 1)
    assert r.reopen_percent == pytest.approx(100 / 3)
    assert (r.csat_count, r.csat_average) == (0, None)


async def test_workload_is_open_tickets_now(demo: Demo, data: dict[str, int]) -> None:
    r = await report(demo)
    load = {a.user.email: (a.open_tickets, a.overdue_tickets) for a in r.workload}
    # The demo's tickets 1 and 3 (the agent's) are long overdue; 2, C and F are unassigned.
    assert load == {
        "agent@example.com": (2, 2),
        "manager@example.com": (0, 0),
        "senior@example.com": (0, 0),
        "vendor@example.com": (0, 0),
    }
    assert r.workload[0].user.email == "agent@example.com"
    assert all(a.time_logged_minutes == 0 for a in r.workload)
    assert r.unassigned_open == 3


async def test_days_are_local_to_the_time_zone(demo: Demo, data: dict[str, int]) -> None:
    r = await report(demo, time_zone="America/New_York")  # UTC-5 in February
    assert (r.window.start, r.window.end) == (at(2, 5), at(4, 5))
    # F (Feb 4 02:00 UTC) is Feb 3 in New York; B's resolution (Feb 3 04:30 UTC) is Feb 2.
    assert r.created == 5
    assert [(d.day, d.created, d.resolved) for d in r.daily] == [(FEB2, 2, 2), (FEB3, 3, 1)]
    r = await report(demo, time_zone="Asia/Tokyo", first_day=FEB3, last_day=FEB3)  # UTC+9
    # Feb 3 in Tokyo is Feb 2 15:00 - Feb 3 15:00 UTC: B, G and C
    assert (r.created, [(d.created, d.resolved) for d in r.daily]) == (3, [(3, 2)])


async def test_empty_range(demo: Demo, data: dict[str, int]) -> None:
    r = await report(demo, first_day=date(2025, 6, 1), last_day=date(2025, 6, 30))
    assert r.created == 0
    assert set(r.by_status.values()) == {0} and set(r.by_priority.values()) == {0}
    assert r.by_category == {}
    assert len(r.daily) == 30 and all(d.created == d.resolved == 0 for d in r.daily)
    for stats in (r.first_response, r.resolution):
        assert (stats.count, stats.mean, stats.median, stats.p90) == (0, None, None, None)
    assert r.first_response_sla.percent is None and r.resolution_sla.percent is None
    assert r.escalations == {1: 0, 2: 0, 3: 0}
    assert r.reopen_percent is None


async def test_a_single_ticket(demo: Demo, data: dict[str, int]) -> None:
    r = await report(demo, first_day=FEB3, last_day=FEB3, category_id=demo.categories["Hardware"])
    assert r.created == 1  # G
    assert (r.first_response.count, r.first_response.mean) == (1, 600.0)
    assert r.first_response.median == r.first_response.p90 == 600.0
    assert (r.resolution.count, r.resolution.median, r.resolution.p90) == (1, 3600.0, 3600.0)
    assert r.first_response_sla.percent == r.resolution_sla.percent == 100.0
    assert r.reopen_percent == 0.0
    assert [(d.created, d.resolved) for d in r.daily] == [(1, 1)]


async def test_scopes(demo: Demo, data: dict[str, int]) -> None:
    desk = await report(demo, actor=demo.manager)
    assert desk.team_ids == {demo.desk} and desk.created == 4
    senior = await report(demo, actor=demo.senior)
    assert senior.created == 0 and senior.unassigned_open == 0
    assert [a.user.email for a in senior.workload] == ["senior@example.com"]
    by_team = await report(demo, team_id=demo.teams["Senior Support"])
    assert by_team.created == 0
    hardware = await report(demo, category_id=demo.categories["Hardware"])
    assert hardware.created == 2 and hardware.first_response.mean == 1200.0


@pytest.mark.parametrize("who", ["agent", "vendor", "rita"])
async def test_only_managers_and_admins(demo: Demo, data: dict[str, int], who: str) -> None:
    with raises_domain(ErrorCode.FORBIDDEN):
        await report(demo, actor=getattr(demo, who))


async def test_managers_only_for_their_teams(demo: Demo, data: dict[str, int]) -> None:
    with raises_domain(ErrorCode.FORBIDDEN, field="teamId"):
        await report(demo, actor=demo.manager, team_id=demo.teams["Senior Support"])


async def test_bad_ranges(demo: Demo) -> None:
    with raises_domain(ErrorCode.VALIDATION, field="range"):
        await report(demo, first_day=FEB3, last_day=FEB2)
    with raises_domain(ErrorCode.VALIDATION, field="timeZone"):
        await report(demo, time_zone="Europe/Atlantis")


async def test_csat_counts_ratings_given_in_the_window(
    demo: Demo, data: dict[str, int], clock: FixedClock
) -> None:
    now = clock.now()
    for key, who, moment, score in (
        ("A", demo.rita, at(2, 15), 5),
        ("B", demo.carl, at(3, 5), 2),
        ("G", demo.rita, at(4, 9), 4),  # Feb 4: outside the two days
    ):
        clock.set(moment)
        await demo.services.csat.rate(who, data[key], score=score)
    clock.set(now)
    r = await report(demo)
    assert (r.csat_count, r.csat_average) == (2, 3.5)
    hardware = await report(demo, category_id=demo.categories["Hardware"])
    assert (hardware.csat_count, hardware.csat_average) == (1, 5.0)
    three_days = await report(demo, last_day=date(2026, 2, 4))
    assert (three_days.csat_count, three_days.csat_average) == (3, pytest.approx(11 / 3))


async def test_time_logged_per_agent_in_the_window(
    demo: Demo, data: dict[str, int], clock: FixedClock
) -> None:
    time = demo.services.time
    c, f = data["C"], data["F"]
    await time.log(demo.agent, c, minutes=30, spent_at=at(3, 13))
    await time.log(demo.agent, f, minutes=45, spent_at=at(4, 3))  # Feb 4: outside
    gone = await time.log(demo.agent, c, minutes=20, spent_at=at(3, 14))
    await time.delete(demo.agent, gone.id)
    await time.log(demo.manager, c, minutes=10, spent_at=at(2, 9))
    await time.start_timer(demo.agent, f)  # running: not counted
    r = await report(demo)
    logged = {a.user.email: a.time_logged_minutes for a in r.workload}
    assert logged["agent@example.com"] == 30
    assert logged["manager@example.com"] == 10
    assert logged["senior@example.com"] == 0
    three_days = await report(demo, last_day=date(2026, 2, 4))
    assert {a.user.email: a.time_logged_minutes for a in three_days.workload}[
        "agent@example.com"
    ] == 75
    hardware = await report(demo, category_id=demo.categories["Hardware"])
    assert all(a.time_logged_minutes == 0 for a in hardware.workload)
