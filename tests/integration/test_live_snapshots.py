"""Live delivery reads each event once per process and authorises it per subscriber with the
same rules as the SQL used for replay."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from sets.domain.enums import TicketStatus
from sets.repositories.tickets import EventQuery
from tests.integration.support import Demo


async def all_event_ids(demo: Demo) -> list[int]:
    return [e.id for e in await demo.services.reads.visible_events(demo.admin, EventQuery())]


async def test_live_visibility_matches_the_sql_rules(demo: Demo) -> None:
    svc = demo.services.tickets
    ticket = await svc.create(demo.carl, title="Clinic printer", description="Jammed.")
    await svc.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    await svc.add_comment(demo.agent, ticket.id, body="Vendor contract?", internal=True)
    await svc.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    ids = await all_event_ids(demo)
    reads = demo.services.reads
    queries = [
        EventQuery(),
        EventQuery(ticket_ids=[ticket.id]),
        EventQuery(statuses=[TicketStatus.IN_PROGRESS]),
        EventQuery(team_ids=[demo.desk]),
        EventQuery(assignee_ids=[demo.agent.user_id or 0]),
    ]
    actors = [demo.admin, demo.agent, demo.vendor, demo.rita, demo.carl, demo.manager]
    for actor in actors:
        for query in queries:
            by_sql = await reads.visible_events(actor, query, ids=ids, limit=len(ids))
            live = await reads.live.visible(actor, query, ids)
            assert [e.id for e in live] == [e.id for e in by_sql], (actor, query)
    carl_sees = await reads.live.visible(demo.carl, EventQuery(), ids)
    assert carl_sees and not any(e.internal for e in carl_sees)
    assert {e.ticket_id for e in carl_sees} == {ticket.id} | {
        e.ticket_id for e in await reads.visible_events(demo.carl, EventQuery())
    }


async def test_concurrent_subscribers_share_one_read(demo: Demo) -> None:
    ids = await all_event_ids(demo)
    reads = demo.services.reads
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = demo.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        results = await asyncio.gather(
            *(reads.live.visible(actor, EventQuery(), ids) for actor in [demo.admin] * 50)
        )
        again = await reads.live.visible(demo.rita, EventQuery(), ids)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert all(len(r) == len(ids) for r in results)
    assert again and len(again) < len(ids)
