"""The audit trail is append-only in the database and its hash chain reveals tampering
(SPEC §6)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sets.domain.audit import ChainBreak, event_hash
from sets.domain.clock import FixedClock
from sets.domain.enums import Priority, TicketStatus
from sets.domain.errors import ErrorCode
from sets.models import TicketEvent
from tests.integration.support import Demo, raises_domain

S = TicketStatus


async def _worked_ticket(demo: Demo, clock: FixedClock) -> int:
    """A ticket with a full history; the clock moves by odd amounts, microseconds included."""
    tickets = demo.services.tickets
    ticket = await tickets.create(
        demo.rita, title="Kühlschrank — Labor 2", description="Temperature alarm »HI«."
    )
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id),
        lambda: tickets.transition(demo.agent, ticket.id, S.IN_PROGRESS),
        lambda: tickets.add_comment(demo.agent, ticket.id, body="Sensor?", internal=True),
        lambda: tickets.add_comment(demo.agent, ticket.id, body="On my way."),
        lambda: tickets.transition(demo.agent, ticket.id, S.PENDING, reason="waiting for key"),
        lambda: tickets.transition(demo.agent, ticket.id, S.IN_PROGRESS),
        lambda: tickets.change_priority(demo.manager, ticket.id, Priority.P2, reason="lab"),
        lambda: tickets.escalate(demo.manager, ticket.id, reason="samples at risk"),
        lambda: tickets.transition(demo.agent, ticket.id, S.RESOLVED, resolution="New sensor."),
        lambda: tickets.transition(demo.rita, ticket.id, S.CLOSED),
    ]
    for n, step in enumerate(steps, start=1):
        clock.advance(timedelta(minutes=n, microseconds=123_457 * n))
        await step()
    return ticket.id


async def _event_ids(demo: Demo, ticket_id: int) -> list[int]:
    return [e.id for e in await demo.chain(ticket_id)]


async def _allow_tampering(demo: Demo, backend: str) -> None:
    """Switch the append-only triggers off in this test's own database."""
    async with demo.services.db.engine.begin() as conn:
        if backend == "sqlite":
            await conn.execute(text("DROP TRIGGER ticket_events_no_update"))
            await conn.execute(text("DROP TRIGGER ticket_events_no_delete"))
        else:
            await conn.execute(
                text("ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_no_update_delete")
            )


async def _execute(demo: Demo, sql: str, **params: object) -> None:
    async with demo.services.db.engine.begin() as conn:
        await conn.execute(text(sql), params)


async def test_chain_verifies_after_a_workflow(demo: Demo, clock: FixedClock) -> None:
    ticket_id = await _worked_ticket(demo, clock)
    reads = demo.services.reads
    total, breaks = await reads.verify_audit_chain(demo.admin)
    assert breaks == []
    assert total == await demo.count_rows(TicketEvent)
    assert total > 12

    count, breaks = await reads.verify_audit_chain(demo.admin, ticket_id)
    assert (count, breaks) == (12, [])
    events = await demo.chain(ticket_id)
    assert events[0].prev_hash == "0" * 64
    for previous, current in itertools.pairwise(events):
        assert current.prev_hash == previous.hash
    stored = await demo.ticket(ticket_id)
    assert (stored.event_seq, stored.last_event_hash) == (events[-1].seq, events[-1].hash)
    # The stored instants keep their microseconds, else the hashes would not verify.
    assert any(e.created_at.microsecond for e in events)


async def test_only_admins_verify(demo: Demo) -> None:
    for actor in (demo.manager, demo.agent, demo.rita):
        with raises_domain(ErrorCode.FORBIDDEN):
            await demo.services.reads.verify_audit_chain(actor)


async def test_database_refuses_update_and_delete_of_events(demo: Demo, backend: str) -> None:
    before = [(e.id, e.kind, e.hash) for e in await demo.chain(1)]
    statements = [
        "UPDATE ticket_events SET kind = 'UPDATED' WHERE id = :id",
        "UPDATE ticket_events SET actor_id = NULL",
        "DELETE FROM ticket_events WHERE id = :id",
        "DELETE FROM ticket_events",
    ]
    if backend == "postgresql":
        statements.append("TRUNCATE ticket_events CASCADE")
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            await _execute(demo, sql, id=before[0][0])
    assert [(e.id, e.kind, e.hash) for e in await demo.chain(1)] == before
    assert (await demo.services.reads.verify_audit_chain(demo.admin))[1] == []


async def test_inserting_events_is_still_allowed(demo: Demo) -> None:
    """The triggers only guard history; new work keeps appending."""
    before = await demo.count_rows(TicketEvent)
    await demo.services.tickets.add_comment(demo.rita, 1, body="Any update?")
    assert await demo.count_rows(TicketEvent) == before + 1


async def test_changed_content_is_detected(demo: Demo, clock: FixedClock, backend: str) -> None:
    ticket_id = await _worked_ticket(demo, clock)
    events = await demo.chain(ticket_id)
    await _allow_tampering(demo, backend)

    target = next(e for e in events if e.kind == "STATUS_CHANGED" and e.data.get("reason"))
    if backend == "sqlite":
        sql = "UPDATE ticket_events SET data = json_set(data, '$.reason', 'nothing') WHERE id = :id"
    else:
        sql = (
            "UPDATE ticket_events SET data = "
            "jsonb_set(data::jsonb, '{reason}', '\"nothing\"')::json WHERE id = :id"
        )
    await _execute(demo, sql, id=target.id)
    assert (await demo.chain(ticket_id))[target.seq - 1].data["reason"] == "nothing"

    _, breaks = await demo.services.reads.verify_audit_chain(demo.admin)
    assert breaks == [ChainBreak(ticket_id, target.seq, "content does not match its hash")]


async def test_changed_actor_is_detected(demo: Demo, clock: FixedClock, backend: str) -> None:
    ticket_id = await _worked_ticket(demo, clock)
    events = await demo.chain(ticket_id)
    await _allow_tampering(demo, backend)
    closing = events[-1]
    assert closing.actor_id == demo.rita.user_id
    await _execute(
        demo,
        "UPDATE ticket_events SET actor_id = :a WHERE id = :id",
        a=demo.agent.user_id,
        id=closing.id,
    )
    _, breaks = await demo.services.reads.verify_audit_chain(demo.admin, ticket_id)
    assert breaks == [ChainBreak(ticket_id, closing.seq, "content does not match its hash")]


async def test_rehashed_forgery_breaks_the_next_link(
    demo: Demo, clock: FixedClock, backend: str
) -> None:
    """Recomputing the forged event's own hash does not help: its successor disagrees."""
    ticket_id = await _worked_ticket(demo, clock)
    events = await demo.chain(ticket_id)
    await _allow_tampering(demo, backend)
    victim = events[2]
    forged = event_hash(
        prev_hash=victim.prev_hash,
        ticket_id=ticket_id,
        seq=victim.seq,
        kind="UPDATED",
        actor_id=victim.actor_id,
        data=victim.data,
        created_at=victim.created_at,
    )
    await _execute(
        demo,
        "UPDATE ticket_events SET kind = 'UPDATED', hash = :h WHERE id = :id",
        h=forged,
        id=victim.id,
    )
    _, breaks = await demo.services.reads.verify_audit_chain(demo.admin, ticket_id)
    assert breaks == [ChainBreak(ticket_id, victim.seq + 1, "prev_hash does not match")]


async def test_deleted_event_is_detected(demo: Demo, clock: FixedClock, backend: str) -> None:
    ticket_id = await _worked_ticket(demo, clock)
    events = await demo.chain(ticket_id)
    await _allow_tampering(demo, backend)
    await _execute(demo, "DELETE FROM ticket_events WHERE id = :id", id=events[4].id)
    total, breaks = await demo.services.reads.verify_audit_chain(demo.admin, ticket_id)
    assert total == len(events) - 1
    assert ChainBreak(ticket_id, events[5].seq, "expected seq 5") in breaks
    assert ChainBreak(ticket_id, events[5].seq, "prev_hash does not match") in breaks
    # Other tickets' chains are unaffected.
    assert all(b.ticket_id == ticket_id for b in breaks)


async def test_deleting_the_newest_events_is_detected(
    demo: Demo, clock: FixedClock, backend: str
) -> None:
    """Cutting off the end of a history leaves a chain that is consistent in itself; the
    ticket row's head (event_seq, last_event_hash) is what shows that events are missing."""
    ticket_id = await _worked_ticket(demo, clock)
    events = await demo.chain(ticket_id)
    await _allow_tampering(demo, backend)
    # The notifications those events caused reference them: a tamperer removes them first.
    await _execute(
        demo,
        "DELETE FROM notifications WHERE event_id IN "
        "(SELECT id FROM ticket_events WHERE ticket_id = :t AND seq > 10)",
        t=ticket_id,
    )
    await _execute(demo, "DELETE FROM ticket_events WHERE ticket_id = :t AND seq > 10", t=ticket_id)
    _, breaks = await demo.services.reads.verify_audit_chain(demo.admin, ticket_id)
    assert breaks == [ChainBreak(ticket_id, 12, "events after seq 10 are missing")]
    _, everything = await demo.services.reads.verify_audit_chain(demo.admin)
    assert everything == breaks
    assert len(events) == 12


async def test_rehashed_newest_event_is_detected(
    demo: Demo, clock: FixedClock, backend: str
) -> None:
    """A forged newest event has no successor to disagree, but the ticket's head does."""
    ticket_id = await _worked_ticket(demo, clock)
    newest = (await demo.chain(ticket_id))[-1]
    await _allow_tampering(demo, backend)
    forged = event_hash(
        prev_hash=newest.prev_hash,
        ticket_id=ticket_id,
        seq=newest.seq,
        kind=newest.kind,
        actor_id=demo.manager.user_id,
        data=newest.data,
        created_at=newest.created_at,
    )
    await _execute(
        demo,
        "UPDATE ticket_events SET actor_id = :a, hash = :h WHERE id = :id",
        a=demo.manager.user_id,
        h=forged,
        id=newest.id,
    )
    _, breaks = await demo.services.reads.verify_audit_chain(demo.admin, ticket_id)
    assert breaks == [ChainBreak(ticket_id, newest.seq, "hash differs from the ticket's head")]
