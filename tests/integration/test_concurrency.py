"""Concurrent writers (SPEC §2 Concurrency, §5 idempotence, §11 refresh reuse): ticket rows
are locked per change (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

from sets.domain.enums import EventKind, Priority, TicketStatus
from sets.domain.errors import DomainError, ErrorCode
from sets.models import Ticket
from tests.integration.support import PASSWORD, Demo, raises_domain


async def _new_ticket(demo: Demo, title: str = "Projector") -> Ticket:
    return await demo.services.tickets.create(demo.rita, title=title, description="Room 1.")


async def test_two_agents_taking_the_same_ticket_exactly_one_wins(demo: Demo) -> None:
    tickets = demo.services.tickets
    second = await demo.new_agent("bob@example.com")
    third = await demo.new_agent("cat@example.com")
    agents = [demo.agent, second, third]
    for round_ in range(3):
        ticket = await _new_ticket(demo, f"Projector {round_}")
        results = await asyncio.gather(
            *(tickets.assign(a, ticket.id, assignee_id=a.user_id) for a in agents),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, Ticket)]
        lost = [r for r in results if not isinstance(r, Ticket)]
        assert len(won) == 1, results
        assert all(isinstance(r, DomainError) for r in lost), lost
        # The losers see the ticket already taken: taking it now would be a transfer.
        assert {(r.code, r.field) for r in lost if isinstance(r, DomainError)} == {
            (ErrorCode.CONFLICT, "reason")
        }
        stored = await demo.ticket(ticket.id)
        assert stored.assignee_id == won[0].assignee_id
        assert stored.status is TicketStatus.TODO
        kinds = Counter(await demo.kinds(ticket.id))
        assert kinds[EventKind.ASSIGNED] == 1
        assert kinds[EventKind.STATUS_CHANGED] == 1
        assert (await demo.services.reads.verify_audit_chain(demo.admin, ticket.id))[1] == []


async def test_concurrent_comments_keep_one_unbroken_chain(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _new_ticket(demo)
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    authors = [demo.agent, demo.manager, demo.rita, demo.admin, demo.senior] * 2
    comments = await asyncio.gather(
        *(
            tickets.add_comment(author, ticket.id, body=f"note {n}", internal=author.is_staff)
            for n, author in enumerate(authors)
        )
    )
    assert len({c.id for c in comments}) == len(authors)
    events = await demo.chain(ticket.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert Counter(e.kind for e in events)[EventKind.COMMENTED] == len(authors)
    assert await demo.services.reads.verify_audit_chain(demo.admin, ticket.id) == (
        len(events),
        [],
    )
    stored = await demo.ticket(ticket.id)
    assert (stored.event_seq, stored.last_event_hash) == (events[-1].seq, events[-1].hash)


async def test_concurrent_different_changes_all_apply(demo: Demo) -> None:
    """Serialised, not lost: a title edit, a priority change and an escalation at once."""
    tickets = demo.services.tickets
    ticket = await _new_ticket(demo)
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    await asyncio.gather(
        tickets.update(demo.rita, ticket.id, title="Projector in room 1"),
        tickets.change_priority(demo.manager, ticket.id, Priority.P2, reason="board meeting"),
        tickets.escalate(demo.admin, ticket.id, reason="CEO"),
        tickets.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS),
    )
    stored = await demo.ticket(ticket.id)
    assert (stored.title, stored.priority, stored.escalation_level, stored.status) == (
        "Projector in room 1",
        Priority.P2,
        1,
        TicketStatus.IN_PROGRESS,
    )
    assert (await demo.services.reads.verify_audit_chain(demo.admin, ticket.id))[1] == []


async def test_stale_expected_version_is_a_conflict(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _new_ticket(demo)
    seen = (await demo.ticket(ticket.id)).version

    # Someone else changes it meanwhile.
    await tickets.update(demo.rita, ticket.id, title="Projector, room 1")
    current = (await demo.ticket(ticket.id)).version
    assert current > seen
    events = len(await demo.events(ticket.id))

    stale: list[Callable[[], Awaitable[object]]] = [
        lambda: tickets.update(demo.rita, ticket.id, title="Mine", expected_version=seen),
        lambda: tickets.assign(
            demo.agent, ticket.id, assignee_id=demo.agent.user_id, expected_version=seen
        ),
        lambda: tickets.transition(
            demo.rita, ticket.id, TicketStatus.CLOSED, reason="gone", expected_version=seen
        ),
    ]
    for attempt in stale:
        with raises_domain(ErrorCode.CONFLICT, "expectedVersion"):
            await attempt()
    with raises_domain(ErrorCode.CONFLICT, "expectedVersion"):
        await tickets.update(demo.rita, ticket.id, title="Mine", expected_version=current + 1)
    assert len(await demo.events(ticket.id)) == events
    assert (await demo.ticket(ticket.id)).title == "Projector, room 1"

    updated = await tickets.update(demo.rita, ticket.id, title="Mine", expected_version=current)
    assert updated.version == current + 1
    assigned = await tickets.assign(
        demo.agent, ticket.id, assignee_id=demo.agent.user_id, expected_version=updated.version
    )
    assert assigned.version == updated.version + 1
    with raises_domain(ErrorCode.CONFLICT, "expectedVersion"):
        await tickets.transition(
            demo.agent, ticket.id, TicketStatus.IN_PROGRESS, expected_version=updated.version
        )


async def test_racing_with_the_same_expected_version_one_wins(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _new_ticket(demo)
    version = (await demo.ticket(ticket.id)).version
    results = await asyncio.gather(
        *(
            tickets.update(demo.rita, ticket.id, title=f"Title {n}", expected_version=version)
            for n in range(4)
        ),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, Ticket)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 1 and len(lost) == 3, results
    assert {(e.code, e.field) for e in lost} == {(ErrorCode.CONFLICT, "expectedVersion")}
    stored = await demo.ticket(ticket.id)
    assert stored.title == won[0].title
    assert Counter(await demo.kinds(ticket.id))[EventKind.UPDATED] == 1


async def test_concurrent_escalations_never_pass_the_top_level(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _new_ticket(demo)
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    results = await asyncio.gather(
        *(tickets.escalate(demo.manager, ticket.id, reason=f"push {n}") for n in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Ticket) for r in results) == 3, results
    assert all(
        isinstance(r, DomainError) and r.code is ErrorCode.VALIDATION
        for r in results
        if not isinstance(r, Ticket)
    )
    assert (await demo.ticket(ticket.id)).escalation_level == 3
    levels = [e.data["to"] for e in await demo.events(ticket.id) if e.kind == EventKind.ESCALATED]
    assert levels == [1, 2, 3]


async def test_refresh_token_presented_twice_at_once(demo: Demo) -> None:
    """Two requests racing with one refresh token: at most one gets a new pair, and the
    reuse revokes the family, so the winner's new refresh token dies as well."""
    auth = demo.services.auth
    pair = await auth.login("agent@example.com", PASSWORD)
    results = await asyncio.gather(
        auth.refresh(pair.refresh_token), auth.refresh(pair.refresh_token), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], DomainError)
    assert losers[0].code is ErrorCode.UNAUTHENTICATED
    with raises_domain(ErrorCode.UNAUTHENTICATED, "refreshToken"):
        await auth.refresh(winners[0].refresh_token)
