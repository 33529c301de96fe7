"""The ticket lifecycle through the service layer (SPEC §2, §3, §4 due times, §6 events)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sets.domain.clock import FixedClock
from sets.domain.enums import EventKind, Priority, TicketStatus
from sets.domain.errors import ErrorCode
from sets.models import Ticket
from tests.integration.support import Demo, raises_domain

S = TicketStatus


async def _payment_ticket(demo: Demo) -> Ticket:
    return await demo.services.tickets.create(
        demo.rita,
        title="Card terminal rejects cards",
        description="Every card payment fails at reception.",
        category_id=demo.categories["Payment"],
    )


async def _in_progress(demo: Demo) -> Ticket:
    """A General ticket of Rita's, taken by the Service Desk agent and started."""
    tickets = demo.services.tickets
    ticket = await tickets.create(
        demo.rita, title="Monitor flickers", description="Desk 12, since Monday."
    )
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    return await tickets.transition(demo.agent, ticket.id, S.IN_PROGRESS)


async def _resolved(demo: Demo) -> Ticket:
    ticket = await _in_progress(demo)
    return await demo.services.tickets.transition(
        demo.agent, ticket.id, S.RESOLVED, resolution="Replaced the cable."
    )


async def test_full_lifecycle_payment_ticket(demo: Demo, clock: FixedClock) -> None:
    tickets = demo.services.tickets
    agent_id = demo.agent.user_id
    created_at = clock.now()

    ticket = await _payment_ticket(demo)
    assert ticket.status is S.NEW
    assert ticket.priority is Priority.P1  # the "Payments are critical" rule beats P2 default
    assert ticket.team_id == demo.desk
    assert ticket.assignee_id is None
    assert ticket.created_at == created_at
    assert ticket.first_response_due_at == created_at + timedelta(minutes=15)
    assert ticket.resolution_due_at == created_at + timedelta(hours=2)
    assert ticket.first_responded_at is None

    clock.advance(timedelta(minutes=2))
    ticket = await tickets.assign(demo.agent, ticket.id, assignee_id=agent_id)
    assert (ticket.status, ticket.assignee_id) == (S.TODO, agent_id)
    assert await demo.kinds(ticket.id) == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.STATUS_CHANGED,
    ]

    clock.advance(timedelta(minutes=1))
    ticket = await tickets.transition(demo.agent, ticket.id, S.IN_PROGRESS)
    assert ticket.status is S.IN_PROGRESS

    clock.advance(timedelta(minutes=1))
    await tickets.add_comment(demo.agent, ticket.id, body="Checking the acquirer.", internal=True)
    assert (await demo.ticket(ticket.id)).first_responded_at is None

    clock.advance(timedelta(minutes=3))
    responded_at = clock.now()
    assert (await demo.ticket(ticket.id)).next_sla_check_at == created_at + timedelta(minutes=15)
    await tickets.add_comment(demo.agent, ticket.id, body="We are on it.")
    stored = await demo.ticket(ticket.id)
    assert stored.first_responded_at == responded_at
    # Next the sweep looks at the resolution warning (75 % of the two hours).
    assert stored.next_sla_check_at == created_at + timedelta(minutes=90)

    # A second public comment does not move the first response.
    clock.advance(timedelta(minutes=1))
    await tickets.add_comment(demo.agent, ticket.id, body="Still on it.")
    assert (await demo.ticket(ticket.id)).first_responded_at == responded_at

    events_before = len(await demo.events(ticket.id))
    with raises_domain(ErrorCode.VALIDATION, "resolution"):
        await tickets.transition(demo.agent, ticket.id, S.RESOLVED)
    with raises_domain(ErrorCode.VALIDATION, "resolution"):
        await tickets.transition(demo.agent, ticket.id, S.RESOLVED, resolution="   ")
    assert len(await demo.events(ticket.id)) == events_before
    assert (await demo.ticket(ticket.id)).status is S.IN_PROGRESS

    clock.advance(timedelta(minutes=10))
    resolved_at = clock.now()
    ticket = await tickets.transition(
        demo.agent, ticket.id, S.RESOLVED, resolution="The terminal needed a key reload."
    )
    assert ticket.status is S.RESOLVED
    assert ticket.resolution == "The terminal needed a key reload."
    assert ticket.resolved_at == resolved_at

    clock.advance(timedelta(hours=1))
    closed_at = clock.now()
    ticket = await tickets.transition(demo.rita, ticket.id, S.CLOSED)
    assert ticket.status is S.CLOSED
    assert ticket.closed_at == closed_at
    assert ticket.next_sla_check_at is None

    events = await demo.events(ticket.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    summary = [
        (e.kind, e.actor_id, e.data.get("from"), e.data.get("to"))
        for e in events
        if e.kind in (EventKind.CREATED, EventKind.ASSIGNED, EventKind.STATUS_CHANGED)
    ]
    assert summary == [
        (EventKind.CREATED, demo.rita.user_id, None, None),
        (EventKind.ASSIGNED, agent_id, None, agent_id),
        (EventKind.STATUS_CHANGED, agent_id, "NEW", "TODO"),
        (EventKind.STATUS_CHANGED, agent_id, "TODO", "IN_PROGRESS"),
        (EventKind.STATUS_CHANGED, agent_id, "IN_PROGRESS", "RESOLVED"),
        (EventKind.STATUS_CHANGED, demo.rita.user_id, "RESOLVED", "CLOSED"),
    ]
    comments = [e for e in events if e.kind == EventKind.COMMENTED]
    assert [(e.internal, e.data["firstResponse"]) for e in comments] == [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert events[-2].data["resolution"] == "The terminal needed a key reload."
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert events[-1].created_at == closed_at


async def test_closed_ticket_refuses_every_mutation(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _resolved(demo)
    await tickets.transition(demo.rita, ticket.id, S.CLOSED)
    before = await demo.ticket(ticket.id)
    event_count = len(await demo.events(ticket.id))
    rows = await demo.row_counts()

    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: tickets.update(demo.rita, ticket.id, title="Actually, another thing"),
        lambda: tickets.update(demo.admin, ticket.id, description="edited"),
        lambda: tickets.assign(
            demo.manager, ticket.id, assignee_id=demo.manager.user_id, reason="take over"
        ),
        lambda: tickets.unassign(demo.agent, ticket.id, reason="done"),
        lambda: tickets.transition(demo.rita, ticket.id, S.IN_PROGRESS, reason="not fixed"),
        lambda: tickets.transition(demo.admin, ticket.id, S.RESOLVED, resolution="again"),
        lambda: tickets.add_comment(demo.rita, ticket.id, body="Thanks!"),
        lambda: tickets.add_comment(demo.agent, ticket.id, body="note", internal=True),
        lambda: tickets.change_priority(demo.admin, ticket.id, Priority.P1, reason="urgent"),
        lambda: tickets.escalate(demo.manager, ticket.id, reason="customer angry"),
    ]
    for attempt in attempts:
        with raises_domain(ErrorCode.TICKET_CLOSED):
            await attempt()

    after = await demo.ticket(ticket.id)
    assert len(await demo.events(ticket.id)) == event_count
    assert await demo.row_counts() == rows
    assert (after.version, after.status, after.title, after.priority) == (
        before.version,
        S.CLOSED,
        before.title,
        before.priority,
    )


async def test_closed_ticket_of_someone_else_stays_hidden(demo: Demo) -> None:
    """The closed check must not reveal a ticket the caller may not see."""
    tickets = demo.services.tickets
    ticket = await _resolved(demo)
    await tickets.transition(demo.rita, ticket.id, S.CLOSED)
    with raises_domain(ErrorCode.NOT_FOUND, "ticketId"):
        await tickets.add_comment(demo.carl, ticket.id, body="hello?")


async def test_invalid_and_forbidden_transitions_change_nothing(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Mouse broken", description="Left button.")
    version = ticket.version

    with raises_domain(ErrorCode.INVALID_TRANSITION, "to"):
        await tickets.transition(demo.admin, ticket.id, S.RESOLVED, resolution="x")
    with raises_domain(ErrorCode.INVALID_TRANSITION, "to"):
        await tickets.transition(demo.manager, ticket.id, S.TODO)  # only by assigning
    with raises_domain(ErrorCode.INVALID_TRANSITION):
        await tickets.transition(demo.admin, ticket.id, S.IN_PROGRESS)
    with raises_domain(ErrorCode.INVALID_TRANSITION):
        await tickets.transition(demo.admin, ticket.id, S.NEW)

    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    # The requester may see the ticket but not move it through the staff part of the flow.
    with raises_domain(ErrorCode.FORBIDDEN):
        await tickets.transition(demo.rita, ticket.id, S.IN_PROGRESS)
    # A manager of another team sees every internal queue but does not work this one.
    with raises_domain(ErrorCode.FORBIDDEN):
        await tickets.transition(demo.senior, ticket.id, S.IN_PROGRESS)
    # Another requester does not even learn that it exists.
    with raises_domain(ErrorCode.NOT_FOUND):
        await tickets.transition(demo.carl, ticket.id, S.CLOSED, reason="spam")

    await tickets.transition(demo.agent, ticket.id, S.IN_PROGRESS)
    with raises_domain(ErrorCode.FORBIDDEN):
        await tickets.transition(demo.rita, ticket.id, S.RESOLVED, resolution="fixed it myself")
    with raises_domain(ErrorCode.INVALID_TRANSITION):
        await tickets.transition(demo.rita, ticket.id, S.CLOSED, reason="never mind")

    stored = await demo.ticket(ticket.id)
    assert stored.status is S.IN_PROGRESS
    assert stored.version == version + 2  # assign (with its status change), start
    assert await demo.kinds(ticket.id) == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.STATUS_CHANGED,
        EventKind.STATUS_CHANGED,
    ]


async def test_pending_and_blocked_round_trips(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _in_progress(demo)
    for parked in (S.PENDING, S.BLOCKED):
        ticket = await tickets.transition(demo.agent, ticket.id, parked, reason="waiting")
        assert ticket.status is parked
        with raises_domain(ErrorCode.INVALID_TRANSITION):
            await tickets.transition(demo.agent, ticket.id, S.RESOLVED, resolution="x")
        ticket = await tickets.transition(demo.manager, ticket.id, S.IN_PROGRESS)
        assert ticket.status is S.IN_PROGRESS
    events = await demo.events(ticket.id)
    assert [(e.data["from"], e.data["to"]) for e in events[-4:]] == [
        ("IN_PROGRESS", "PENDING"),
        ("PENDING", "IN_PROGRESS"),
        ("IN_PROGRESS", "BLOCKED"),
        ("BLOCKED", "IN_PROGRESS"),
    ]
    assert events[-4].data["reason"] == "waiting"
    assert events[-1].actor_id == demo.manager.user_id


async def test_requester_reopens_resolved_ticket_with_reason(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _resolved(demo)
    assert ticket.reopen_count == 0
    assert ticket.resolved_at is not None

    with raises_domain(ErrorCode.VALIDATION, "reason"):
        await tickets.transition(demo.rita, ticket.id, S.IN_PROGRESS)
    with raises_domain(ErrorCode.VALIDATION, "reason"):
        await tickets.transition(demo.rita, ticket.id, S.IN_PROGRESS, reason="  ")
    assert (await demo.ticket(ticket.id)).reopen_count == 0

    ticket = await tickets.transition(
        demo.rita, ticket.id, S.IN_PROGRESS, reason="Still flickering."
    )
    assert ticket.status is S.IN_PROGRESS
    assert ticket.reopen_count == 1
    assert ticket.resolved_at is None
    last = (await demo.events(ticket.id))[-1]
    assert (last.actor_id, last.data["from"], last.data["to"], last.data["reason"]) == (
        demo.rita.user_id,
        "RESOLVED",
        "IN_PROGRESS",
        "Still flickering.",
    )

    # The assignee may reopen too, without a reason; it still counts.
    await tickets.transition(demo.agent, ticket.id, S.RESOLVED, resolution="New cable.")
    ticket = await tickets.transition(demo.agent, ticket.id, S.IN_PROGRESS)
    assert ticket.reopen_count == 2


async def test_requester_withdraws_new_ticket_with_reason(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Password reset", description="Locked out.")
    with raises_domain(ErrorCode.VALIDATION, "reason"):
        await tickets.transition(demo.rita, ticket.id, S.CLOSED)
    with raises_domain(ErrorCode.FORBIDDEN):
        await tickets.transition(demo.agent, ticket.id, S.CLOSED, reason="duplicate")
    ticket = await tickets.transition(demo.rita, ticket.id, S.CLOSED, reason="Found it.")
    assert ticket.status is S.CLOSED
    assert ticket.closed_at is not None


async def test_transfer_needs_reason(demo: Demo) -> None:
    tickets = demo.services.tickets
    second = await demo.new_agent("bob@example.com")
    ticket = await tickets.create(demo.rita, title="Laptop slow", description="Very slow.")
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    events_before = len(await demo.events(ticket.id))

    with raises_domain(ErrorCode.CONFLICT, "reason"):
        await tickets.assign(demo.manager, ticket.id, assignee_id=second.user_id)
    with raises_domain(ErrorCode.CONFLICT, "reason"):
        await tickets.assign(demo.manager, ticket.id, assignee_id=second.user_id, reason=" ")
    # An agent taking someone else's ticket is a transfer as well.
    with raises_domain(ErrorCode.CONFLICT, "reason"):
        await tickets.assign(second, ticket.id, assignee_id=second.user_id)
    # Agents only assign to themselves.
    with raises_domain(ErrorCode.FORBIDDEN, "assigneeId"):
        await tickets.assign(demo.agent, ticket.id, assignee_id=second.user_id, reason="holiday")
    assert len(await demo.events(ticket.id)) == events_before
    assert (await demo.ticket(ticket.id)).assignee_id == demo.agent.user_id

    ticket = await tickets.assign(
        demo.manager, ticket.id, assignee_id=second.user_id, reason="Alex is on holiday"
    )
    assert (ticket.assignee_id, ticket.status) == (second.user_id, S.TODO)
    last = (await demo.events(ticket.id))[-1]
    assert last.kind == EventKind.ASSIGNED
    assert last.actor_id == demo.manager.user_id
    assert (last.data["from"], last.data["to"], last.data["transfer"]) == (
        demo.agent.user_id,
        second.user_id,
        True,
    )
    assert last.data["reason"] == "Alex is on holiday"
    assert len(await demo.events(ticket.id)) == events_before + 1  # no status change

    # Assigning the same way again is refused rather than writing an empty event.
    with raises_domain(ErrorCode.VALIDATION, "assigneeId"):
        await tickets.assign(demo.manager, ticket.id, assignee_id=second.user_id, reason="x")


async def test_assign_refuses_requesters_and_non_members(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Headset", description="No sound.")
    with raises_domain(ErrorCode.FORBIDDEN):
        await tickets.assign(demo.rita, ticket.id, assignee_id=demo.agent.user_id)
    with raises_domain(ErrorCode.VALIDATION, "assigneeId"):
        await tickets.assign(demo.admin, ticket.id, assignee_id=demo.carl.user_id)
    with raises_domain(ErrorCode.VALIDATION, "assigneeId"):  # not in Service Desk
        await tickets.assign(demo.admin, ticket.id, assignee_id=demo.senior.user_id)
    with raises_domain(ErrorCode.NOT_FOUND, "assigneeId"):
        await tickets.assign(demo.admin, ticket.id, assignee_id=987_654)
    with raises_domain(ErrorCode.FORBIDDEN):  # the ticket is not Senior Support's
        await tickets.assign(demo.senior, ticket.id, assignee_id=demo.senior.user_id)
    assert await demo.kinds(ticket.id) == [EventKind.CREATED]
    assert (await demo.ticket(ticket.id)).status is S.NEW


async def test_unassign_returns_unstarted_ticket_to_queue(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Keyboard", description="Sticky keys.")
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    ticket = await tickets.unassign(demo.agent, ticket.id, reason="wrong queue")
    assert (ticket.status, ticket.assignee_id) == (S.NEW, None)
    assert await demo.kinds(ticket.id) == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.STATUS_CHANGED,
        EventKind.UNASSIGNED,
        EventKind.STATUS_CHANGED,
    ]
    with raises_domain(ErrorCode.VALIDATION, "ticketId"):
        await tickets.unassign(demo.manager, ticket.id)

    # Once work started the status stays where it is.
    started = await _in_progress(demo)
    started = await tickets.unassign(demo.manager, started.id, reason="rebalancing")
    assert (started.status, started.assignee_id) == (S.IN_PROGRESS, None)


async def test_change_priority_recomputes_due_times_from_creation(
    demo: Demo, clock: FixedClock
) -> None:
    tickets = demo.services.tickets
    created_at = clock.now()
    ticket = await tickets.create(demo.rita, title="Scanner", description="Feeds badly.")
    assert ticket.priority is Priority.P3
    assert ticket.resolution_due_at == created_at + timedelta(hours=24)
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    clock.advance(timedelta(hours=1))
    events_before = len(await demo.events(ticket.id))

    with raises_domain(ErrorCode.VALIDATION, "reason"):
        await tickets.change_priority(demo.agent, ticket.id, Priority.P1, reason=None)
    with raises_domain(ErrorCode.VALIDATION, "reason"):
        await tickets.change_priority(demo.agent, ticket.id, Priority.P1, reason="   ")
    with raises_domain(ErrorCode.VALIDATION, "priority"):
        await tickets.change_priority(demo.agent, ticket.id, Priority.P3, reason="same")
    assert len(await demo.events(ticket.id)) == events_before

    ticket = await tickets.change_priority(
        demo.agent, ticket.id, Priority.P2, reason="Whole ward affected"
    )
    assert ticket.priority is Priority.P2
    assert ticket.first_response_due_at == created_at + timedelta(hours=1)
    assert ticket.resolution_due_at == created_at + timedelta(hours=6)
    stored = await demo.ticket(ticket.id)
    assert stored.resolution_due_at == created_at + timedelta(hours=6)
    assert stored.next_sla_check_at == created_at + timedelta(hours=1)

    last = (await demo.events(ticket.id))[-1]
    assert last.kind == EventKind.PRIORITY_CHANGED
    assert (last.actor_id, last.data["from"], last.data["to"], last.data["reason"]) == (
        demo.agent.user_id,
        "P3",
        "P2",
        "Whole ward affected",
    )

    ticket = await tickets.change_priority(demo.manager, ticket.id, Priority.P4, reason="Calm")
    assert ticket.resolution_due_at == created_at + timedelta(hours=72)


async def test_manual_escalation_stops_at_level_three(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _in_progress(demo)
    assert ticket.escalation_level == 0
    with raises_domain(ErrorCode.VALIDATION, "reason"):
        await tickets.escalate(demo.agent, ticket.id, reason="")
    for level in (1, 2, 3):
        ticket = await tickets.escalate(demo.agent, ticket.id, reason=f"step {level}")
        assert ticket.escalation_level == level
    events_before = len(await demo.events(ticket.id))
    with raises_domain(ErrorCode.VALIDATION):
        await tickets.escalate(demo.admin, ticket.id, reason="even higher")
    assert (await demo.ticket(ticket.id)).escalation_level == 3
    escalations = [e for e in await demo.events(ticket.id) if e.kind == EventKind.ESCALATED]
    assert len(await demo.events(ticket.id)) == events_before
    assert [(e.data["from"], e.data["to"], e.data["manual"]) for e in escalations] == [
        (0, 1, True),
        (1, 2, True),
        (2, 3, True),
    ]


async def test_update_records_changes_and_skips_no_ops(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Phone", description="No dial tone.")
    same = await tickets.update(demo.rita, ticket.id, title="  Phone  ")
    assert same.version == ticket.version
    assert await demo.kinds(ticket.id) == [EventKind.CREATED]

    ticket = await tickets.update(
        demo.rita,
        ticket.id,
        title="Desk phone",
        description="No dial tone at all.",
        category_id=demo.categories["Hardware"],
    )
    assert (ticket.title, ticket.category_id) == ("Desk phone", demo.categories["Hardware"])
    last = (await demo.events(ticket.id))[-1]
    assert last.kind == EventKind.UPDATED
    assert last.data["changes"]["title"] == {"from": "Phone", "to": "Desk phone"}
    assert last.data["changes"]["categoryId"]["to"] == demo.categories["Hardware"]
    assert "description" in last.data["changes"]

    # Staff who are not working it may not edit it; another requester cannot see it.
    with raises_domain(ErrorCode.FORBIDDEN):
        await tickets.update(demo.agent, ticket.id, title="Phone (agent)")
    with raises_domain(ErrorCode.NOT_FOUND):
        await tickets.update(demo.carl, ticket.id, title="Phone (carl)")


async def test_each_change_bumps_the_version_by_exactly_one(demo: Demo) -> None:
    """One mutation, one version, however often it flushes (a first public reply and a
    resolve both query after changing the ticket)."""
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Dock", description="No video.")
    versions = [(await demo.ticket(ticket.id)).version]

    async def step(change: Callable[[], Awaitable[object]]) -> None:
        await change()
        versions.append((await demo.ticket(ticket.id)).version)

    await step(lambda: tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id))
    await step(lambda: tickets.add_comment(demo.agent, ticket.id, body="Looking."))
    await step(lambda: tickets.add_comment(demo.agent, ticket.id, body="Note.", internal=True))
    await step(lambda: tickets.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS))
    await step(
        lambda: tickets.transition(
            demo.agent, ticket.id, TicketStatus.RESOLVED, resolution="Firmware."
        )
    )
    assert versions == [1, 2, 3, 4, 5, 6]
    # A stale expectedVersion is still refused, and changes nothing.
    with raises_domain(ErrorCode.CONFLICT, field="expectedVersion"):
        await tickets.transition(
            demo.agent,
            ticket.id,
            TicketStatus.CLOSED,
            reason="done",
            expected_version=versions[-2],
        )
    assert (await demo.ticket(ticket.id)).version == versions[-1]


async def test_a_requester_reply_resumes_a_pending_ticket(demo: Demo, clock: FixedClock) -> None:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="VPN", description="Drops hourly.")
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    await tickets.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    await tickets.transition(demo.agent, ticket.id, TicketStatus.PENDING, reason="Which OS?")
    # Staff writing (a note or a reply) does not end the wait; another requester cannot.
    await tickets.add_comment(demo.agent, ticket.id, body="Asked again.", internal=True)
    await tickets.add_comment(demo.agent, ticket.id, body="Any news?")
    paused = await demo.ticket(ticket.id)
    assert paused.status is TicketStatus.PENDING and paused.sla_stopped_since is not None
    with raises_domain(ErrorCode.NOT_FOUND):
        await tickets.add_comment(demo.carl, ticket.id, body="Me too.")

    clock.advance(timedelta(minutes=20))
    await tickets.add_comment(demo.rita, ticket.id, body="Windows 11.")
    resumed = await demo.ticket(ticket.id)
    assert resumed.status is TicketStatus.IN_PROGRESS
    assert resumed.sla_stopped_since is None
    assert resumed.sla_stopped_seconds >= 20 * 60
    assert resumed.version == paused.version + 1
    last = (await demo.events(ticket.id))[-1]
    assert (last.kind, last.actor_id) == (EventKind.STATUS_CHANGED, None)
    assert last.data == {"from": "PENDING", "to": "IN_PROGRESS", "reason": "the requester replied"}

    # BLOCKED waits on a third party, not on the requester: a reply leaves it blocked.
    await tickets.transition(demo.agent, ticket.id, TicketStatus.BLOCKED, reason="Vendor.")
    await tickets.add_comment(demo.rita, ticket.id, body="Still dropping.")
    assert (await demo.ticket(ticket.id)).status is TicketStatus.BLOCKED
