"""The SLA sweep and auto-close on both databases, driven by an injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from sets.domain.clock import FixedClock
from sets.domain.enums import EventKind, Priority, TicketStatus
from sets.models import Notification, Ticket
from sets.services import outbox
from sets.services.sweep import SweepSummary
from tests.integration.support import Demo

H = timedelta(hours=1)


@pytest.fixture(autouse=True)
async def settled(demo: Demo, clock: FixedClock) -> None:
    """A month on, the demo tickets have run through every SLA step: sweeps below see only
    the tickets each test makes."""
    clock.advance(timedelta(days=30))
    await demo.services.sla_sweep.run()
    assert (await demo.services.sla_sweep.run()).examined == 0


async def at(demo: Demo, clock: FixedClock, moment: datetime) -> SweepSummary:
    clock.set(moment)
    return await demo.services.sla_sweep.run()


async def payment_ticket(demo: Demo, *, reply: bool = True) -> Ticket:
    svc = demo.services.tickets
    ticket = await svc.create(
        demo.rita,
        title="Card payments fail",
        description="All declined.",
        category_id=demo.categories["Payment"],
    )
    assert ticket.priority is Priority.P1
    await svc.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    if reply:
        await svc.add_comment(demo.agent, ticket.id, body="Looking at it now.")
    return ticket


async def sla_events(demo: Demo, ticket_id: int) -> list[tuple[str, dict[str, Any]]]:
    kinds = {EventKind.SLA_WARNING, EventKind.SLA_BREACHED, EventKind.ESCALATED}
    return [(e.kind, e.data) for e in await demo.events(ticket_id) if e.kind in kinds]


async def notified(demo: Demo, ticket_id: int, kind: str) -> set[tuple[int, str]]:
    async with demo.services.db.reader() as session:
        rows = await session.execute(
            select(Notification.recipient_id, Notification.channel).where(
                Notification.ticket_id == ticket_id, Notification.event == kind
            )
        )
        return {(r, c) for r, c in rows}


def people(pairs: set[tuple[int, str]]) -> set[int]:
    assert {c for _, c in pairs} <= {"IN_APP", "EMAIL"}
    return {r for r, _ in pairs}


async def test_p1_timeline_warning_breach_and_three_levels(demo: Demo, clock: FixedClock) -> None:
    t0 = clock.now()
    ticket = await payment_ticket(demo)
    assert (await at(demo, clock, t0 + H * 1.49)).examined == 0

    summary = await at(demo, clock, t0 + H * 1.5)
    assert (summary.examined, summary.warned, summary.breached, summary.escalated) == (1, 1, 0, 0)
    assert await sla_events(demo, ticket.id) == [
        (
            "SLA_WARNING",
            {"target": "RESOLUTION", "dueAt": (t0 + 2 * H).isoformat(), "percent": 75},
        )
    ]
    assert people(await notified(demo, ticket.id, "SLA_WARNING")) == {demo.agent.user_id}

    summary = await at(demo, clock, t0 + 2 * H)
    assert (summary.breached, summary.escalated) == (1, 1)
    stored = await demo.ticket(ticket.id)
    assert (stored.escalation_level, stored.resolution_breached) == (1, True)
    assert people(await notified(demo, ticket.id, "ESCALATED")) == {
        demo.agent.user_id,
        demo.manager.user_id,
    }

    await at(demo, clock, t0 + 3 * H)
    stored = await demo.ticket(ticket.id)
    assert stored.escalation_level == 2
    assert stored.team_id == demo.teams["Senior Support"]
    assert stored.assignee_id is None  # the agent is not in the tier-2 team

    await at(demo, clock, t0 + 4 * H)
    stored = await demo.ticket(ticket.id)
    assert stored.escalation_level == 3
    assert stored.next_sla_check_at is None
    admins = {demo.admin.user_id}
    assert admins <= people(await notified(demo, ticket.id, "ESCALATED"))

    steps = await sla_events(demo, ticket.id)
    assert [(k, d.get("to"), d.get("toTeam")) for k, d in steps] == [
        ("SLA_WARNING", None, None),
        ("SLA_BREACHED", None, None),
        ("ESCALATED", 1, demo.desk),
        ("ESCALATED", 2, demo.teams["Senior Support"]),
        ("ESCALATED", 3, demo.teams["Senior Support"]),
    ]
    events = await demo.events(ticket.id)
    assert all(
        e.actor_id is None and e.internal for e in events if e.kind.startswith(("SLA", "ESC"))
    )

    # Sweeping again at the same moment, or later, changes nothing.
    again = await at(demo, clock, t0 + 10 * H)
    assert again.examined == 0
    assert len(await sla_events(demo, ticket.id)) == 5
    chain_ok = await demo.services.reads.verify_audit_chain(demo.admin, ticket.id)
    assert chain_ok[1] == []


async def test_level_three_routes_to_the_categorys_external_team(
    demo: Demo, clock: FixedClock
) -> None:
    t0 = clock.now()
    ticket = await demo.services.tickets.create(
        demo.rita,
        title="Site-to-site VPN down",
        description="Branch offline.",
        category_id=demo.categories["Network"],
    )
    assert ticket.priority is Priority.P1  # "down" rule
    summary = await at(demo, clock, t0 + 4 * H)
    # Catch-up: no warning after the breach; first response, breach and three levels.
    assert (summary.warned, summary.breached, summary.escalated) == (0, 2, 3)
    stored = await demo.ticket(ticket.id)
    assert stored.team_id == demo.teams["Vendor IT"]
    vendor_sees = await demo.services.reads.ticket(demo.vendor, ticket.id)
    assert vendor_sees.id == ticket.id


async def test_first_response_breach_is_separate(demo: Demo, clock: FixedClock) -> None:
    t0 = clock.now()
    ticket = await payment_ticket(demo, reply=False)
    summary = await at(demo, clock, t0 + timedelta(minutes=15))
    assert (summary.breached, summary.warned) == (1, 0)
    stored = await demo.ticket(ticket.id)
    assert (stored.first_response_breached, stored.resolution_breached) == (True, False)
    assert [d["target"] for _, d in await sla_events(demo, ticket.id)] == ["FIRST_RESPONSE"]
    assert people(await notified(demo, ticket.id, "SLA_BREACHED")) == {
        demo.agent.user_id,
        demo.manager.user_id,
    }


async def test_time_in_pending_does_not_count(demo: Demo, clock: FixedClock) -> None:
    t0 = clock.now()
    svc = demo.services.tickets
    ticket = await payment_ticket(demo)
    await svc.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    clock.set(t0 + H * 0.5)
    paused = await svc.transition(demo.agent, ticket.id, TicketStatus.PENDING)
    assert paused.next_sla_check_at is None
    assert (await at(demo, clock, t0 + 2 * H)).examined == 0
    clock.set(t0 + H * 1.5)
    resumed = await svc.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    assert resumed.resolution_due_at == t0 + 3 * H
    assert resumed.next_sla_check_at == t0 + H * 2.5
    assert (await at(demo, clock, t0 + H * 2.9)).breached == 0
    assert (await at(demo, clock, t0 + 3 * H)).breached == 1


async def test_resolving_stops_the_clock_and_reopening_resumes_it(
    demo: Demo, clock: FixedClock
) -> None:
    t0 = clock.now()
    svc = demo.services.tickets
    ticket = await payment_ticket(demo)
    await svc.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    clock.set(t0 + H)
    resolved = await svc.transition(
        demo.agent, ticket.id, TicketStatus.RESOLVED, resolution="Restarted the terminal."
    )
    assert resolved.next_sla_check_at is None
    clock.set(t0 + 2 * H)
    reopened = await svc.transition(
        demo.rita, ticket.id, TicketStatus.IN_PROGRESS, reason="Still declining."
    )
    assert reopened.resolution_due_at == t0 + 3 * H
    assert reopened.reopen_count == 1


async def test_business_hours_calendar_with_a_holiday(demo: Demo, clock: FixedClock) -> None:
    berlin_office = {
        "timeZone": "Europe/Berlin",
        "hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
        "holidays": ["2026-02-09"],
    }
    await demo.services.policies.update_sla_policy(demo.admin, Priority.P3, calendar=berlin_office)
    clock.set(datetime(2026, 2, 6, 15, 0, tzinfo=UTC))  # Friday 16:00 in Berlin
    ticket = await demo.services.tickets.create(
        demo.rita, title="Mouse is slow", description="Sluggish.", category_id=None
    )
    assert ticket.priority is Priority.P3
    # 4 open hours for the first response: 1 on Friday, Monday is a holiday, 3 on Tuesday.
    assert ticket.first_response_due_at == datetime(2026, 2, 10, 11, 0, tzinfo=UTC)
    # 24 open hours: 1 + 8 (Tue) + 8 (Wed) + 7 (Thu) -> Thursday 16:00 Berlin.
    assert ticket.resolution_due_at == datetime(2026, 2, 12, 15, 0, tzinfo=UTC)


async def test_policy_change_reevaluates_open_tickets(demo: Demo, clock: FixedClock) -> None:
    t0 = clock.now()
    ticket = await payment_ticket(demo)
    await demo.services.policies.update_sla_policy(demo.admin, Priority.P1, resolution_minutes=60)
    assert (await demo.ticket(ticket.id)).next_sla_check_at == t0
    await at(demo, clock, t0 + timedelta(minutes=1))
    stored = await demo.ticket(ticket.id)
    assert stored.resolution_due_at == t0 + H
    assert stored.next_sla_check_at == t0 + timedelta(minutes=45)


async def test_manual_escalation_is_not_repeated(demo: Demo, clock: FixedClock) -> None:
    t0 = clock.now()
    ticket = await payment_ticket(demo)
    await demo.services.tickets.escalate(demo.manager, ticket.id, reason="Key customer")
    summary = await at(demo, clock, t0 + 2 * H)
    assert (summary.breached, summary.escalated) == (1, 0)
    await at(demo, clock, t0 + 3 * H)
    assert (await demo.ticket(ticket.id)).escalation_level == 2
    levels = [d["to"] for k, d in await sla_events(demo, ticket.id) if k == "ESCALATED"]
    assert levels == [1, 2]


async def test_resolved_tickets_close_after_three_days(demo: Demo, clock: FixedClock) -> None:
    t0 = clock.now()
    svc = demo.services.tickets
    ticket = await payment_ticket(demo)
    await svc.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    await svc.transition(demo.agent, ticket.id, TicketStatus.RESOLVED, resolution="Fixed.")
    clock.set(t0 + timedelta(days=3) - timedelta(seconds=1))
    assert await demo.services.auto_close.run() == 0
    clock.set(t0 + timedelta(days=3))
    assert await demo.services.auto_close.run() == 1
    stored = await demo.ticket(ticket.id)
    assert stored.status is TicketStatus.CLOSED
    last = (await demo.events(ticket.id))[-1]
    assert (last.kind, last.actor_id, last.data["to"]) == ("STATUS_CHANGED", None, "CLOSED")
    assert await demo.services.auto_close.run() == 0


async def test_two_sweeps_at_once_escalate_each_level_once(demo: Demo, clock: FixedClock) -> None:
    t0 = clock.now()
    ids = []
    for n in range(200):
        ticket = await demo.services.tickets.create(
            demo.rita, title=f"Payment {n}", description="x", category_id=demo.categories["Payment"]
        )
        ids.append(ticket.id)
    clock.set(t0 + 2 * H)
    first, second = await asyncio.gather(
        demo.services.sla_sweep.run(), demo.services.sla_sweep.run()
    )
    assert first.escalated + second.escalated == 200
    async with demo.services.db.reader() as session:
        per_ticket = await session.execute(
            select(Ticket.id, Ticket.escalation_level).where(Ticket.id.in_(ids))
        )
        assert {level for _, level in per_ticket} == {1}
        notifications = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.ticket_id.in_(ids),
                Notification.event.in_(["SLA_BREACHED", "ESCALATED"]),
            )
        )
    escalations = 0
    for ticket_id in ids:
        levels = [d["to"] for k, d in await sla_events(demo, ticket_id) if k == "ESCALATED"]
        assert levels == [1]
        escalations += 1
    assert escalations == 200
    # First-response breach (manager + members fallback is not needed: the desk has one)
    # and level 1 each notify the team's manager on two channels, exactly once.
    assert notifications == 200 * 2 * 2


async def test_a_failure_mid_ticket_leaves_it_untouched_and_the_next_sweep_finishes(
    demo: Demo, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = clock.now()
    first = await payment_ticket(demo)
    second = await payment_ticket(demo)
    real_notify = outbox.notify
    calls = 0

    async def crash_on_second(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if args[1].id == second.id:
            raise ConnectionError("worker lost its database half-way")
        return await real_notify(*args, **kwargs)

    monkeypatch.setattr(outbox, "notify", crash_on_second)
    summary = await at(demo, clock, t0 + 2 * H)
    assert summary.examined == 2
    untouched = await demo.ticket(second.id)
    assert (untouched.escalation_level, untouched.resolution_breached) == (0, False)
    assert await sla_events(demo, second.id) == []
    assert await notified(demo, second.id, "ESCALATED") == set()
    assert (await demo.ticket(first.id)).escalation_level == 1

    monkeypatch.setattr(outbox, "notify", real_notify)
    await at(demo, clock, t0 + 2 * H)
    finished = await demo.ticket(second.id)
    assert (finished.escalation_level, finished.resolution_breached) == (1, True)
    assert [k for k, _ in await sla_events(demo, second.id)] == ["SLA_BREACHED", "ESCALATED"]
    assert calls >= 2
