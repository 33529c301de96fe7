"""Cost follows due tickets, not table size: a sweep over 100 000 tickets of which 100 are due
reads the 100 through the next-check index and loads nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, text

from sets.domain.clock import FixedClock
from sets.domain.enums import Priority, TicketStatus
from sets.models import Ticket
from tests.integration.support import Demo

NOT_DUE = 100_000
DUE = 100


@contextmanager
def loaded_tickets() -> Iterator[list[int]]:
    ids: list[int] = []

    def on_load(target: Ticket, _context: Any) -> None:
        ids.append(target.id)

    event.listen(Ticket, "load", on_load)
    try:
        yield ids
    finally:
        event.remove(Ticket, "load", on_load)


async def test_sweep_touches_only_due_tickets(demo: Demo, clock: FixedClock) -> None:
    now = clock.advance(timedelta(days=30))
    await demo.services.sla_sweep.run()  # the demo tickets run through all their steps
    base = {
        "title": "bulk",
        "description": "bulk",
        "status": TicketStatus.IN_PROGRESS,
        "priority": Priority.P3,
        "requester_id": demo.rita.user_id,
        "version": 1,
        "event_seq": 0,
        "last_event_hash": "0" * 64,
        "work_started": True,
        "reopen_count": 0,
        "escalation_level": 0,
        "first_response_due_at": now,
        "resolution_due_at": now + timedelta(days=1),
        "first_responded_at": now,
        "first_response_breached": False,
        "resolution_warned": False,
        "resolution_breached": False,
        "sla_stopped_seconds": 0,
        "created_at": now,
        "updated_at": now,
    }
    later = now + timedelta(hours=18)
    rows = [{**base, "next_sla_check_at": later} for _ in range(NOT_DUE)]
    rows += [{**base, "next_sla_check_at": now} for _ in range(DUE)]
    async with demo.services.db.engine.begin() as conn:
        for start in range(0, len(rows), 20_000):
            await conn.execute(insert(Ticket), rows[start : start + 20_000])
        if demo.services.db.dialect == "postgresql":
            await conn.execute(text("ANALYZE tickets"))

    due_query = (
        "SELECT id FROM tickets WHERE next_sla_check_at <= :now "
        "ORDER BY next_sla_check_at, id LIMIT 200"
    )
    async with demo.services.db.engine.connect() as conn:
        if demo.services.db.dialect == "sqlite":
            plan = " ".join(
                str(r[-1])
                for r in await conn.execute(text("EXPLAIN QUERY PLAN " + due_query), {"now": now})
            )
        else:
            plan = " ".join(
                str(r[0]) for r in await conn.execute(text("EXPLAIN " + due_query), {"now": now})
            )
    assert "ix_tickets_next_sla_check_at" in plan, plan

    with loaded_tickets() as ids:
        summary = await demo.services.sla_sweep.run()
    assert summary.examined == DUE
    assert len(ids) == DUE  # each due ticket loaded once, under its row lock; nothing else
