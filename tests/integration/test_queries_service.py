"""Reading tickets page by page (SPEC §10 cursor connections) through the read service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sets.domain.actor import Actor
from sets.domain.clock import FixedClock
from sets.domain.enums import Priority, TicketStatus
from sets.models import Ticket
from sets.repositories.tickets import ORDER_COLUMNS, TicketQuery
from tests.integration.support import Demo


async def _walk(demo: Demo, actor: Actor, query: TicketQuery, size: int) -> list[Ticket]:
    """Every page in turn, following the keyset cursor of the last row."""
    reads = demo.services.reads
    seen: list[Ticket] = []
    after: tuple[Any, int] | None = None
    for _ in range(100):
        page = await reads.tickets(actor, query, first=size, after=after)
        seen.extend(page.items)
        if not page.has_next:
            return seen
        last = page.items[-1]
        column = ORDER_COLUMNS[query.order_field].key
        after = (getattr(last, column), last.id)
    raise AssertionError("pagination did not end")


async def _many_tickets(demo: Demo, clock: FixedClock) -> None:
    tickets = demo.services.tickets
    # Several tickets share one instant, so ties must be broken by id.
    for n in range(9):
        if n % 3 == 0:
            clock.advance(timedelta(minutes=5))
        await tickets.create(
            demo.carl if n % 2 else demo.rita,
            title=f"Ticket {n}" + (" outage" if n % 4 == 0 else ""),
            description="Details.",
        )


@pytest.mark.parametrize(
    ("order_field", "descending"),
    [("CREATED_AT", True), ("CREATED_AT", False), ("PRIORITY", False), ("UPDATED_AT", True)],
)
async def test_pages_cover_every_ticket_once_in_order(
    demo: Demo, clock: FixedClock, order_field: str, descending: bool
) -> None:
    await _many_tickets(demo, clock)
    query = TicketQuery(order_field=order_field, descending=descending)
    everything = await demo.services.reads.tickets(demo.admin, query, first=100, after=None)
    assert len(everything.items) == 12
    assert await demo.services.reads.count_tickets(demo.admin, query) == 12
    for size in (1, 2, 5):
        walked = await _walk(demo, demo.admin, query, size)
        assert [t.id for t in walked] == [t.id for t in everything.items]
    column = ORDER_COLUMNS[order_field].key
    keys = [(getattr(t, column), t.id) for t in everything.items]
    assert keys == sorted(keys, reverse=descending)


async def test_filters_and_visibility_combine(demo: Demo, clock: FixedClock) -> None:
    await _many_tickets(demo, clock)
    reads = demo.services.reads
    p1 = TicketQuery(priorities=[Priority.P1])
    admin_p1 = await _walk(demo, demo.admin, p1, 2)
    rita_p1 = await _walk(demo, demo.rita, p1, 2)
    assert {t.priority for t in admin_p1} == {Priority.P1}
    assert {t.id for t in rita_p1} == {
        t.id for t in admin_p1 if t.requester_id == demo.rita.user_id
    }
    assert await reads.count_tickets(demo.rita, p1) == len(rita_p1)

    unassigned_new = TicketQuery(statuses=[TicketStatus.NEW], unassigned=True)
    rows = await _walk(demo, demo.manager, unassigned_new, 3)
    assert rows and all(t.assignee_id is None and t.status is TicketStatus.NEW for t in rows)
    assert await reads.count_tickets(demo.manager, unassigned_new) == len(rows)
