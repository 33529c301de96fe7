"""`sets demo --tickets N`: bulk tickets keep every invariant the use cases keep."""

from __future__ import annotations

from sqlalchemy import func, select

from sets.domain.enums import TicketStatus
from sets.models import Ticket
from sets.repositories.tickets import TicketQuery
from sets.services.bulk import load_tickets
from tests.integration.support import Demo


async def test_bulk_tickets_are_consistent(demo: Demo) -> None:
    services = demo.services
    progress: list[int] = []
    result = await load_tickets(services, 1200, progress=lambda done, _: progress.append(done))
    assert result.tickets == 1200 and result.events >= 1200
    assert progress == [1200]
    async with services.db.reader() as session:
        rows = await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))
        statuses = {status: n for status, n in rows}
    assert set(statuses) >= {TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}
    assert sum(statuses.values()) == 1203  # plus the three demo tickets
    checked, breaks = await services.reads.verify_audit_chain(demo.admin)
    assert breaks == [] and checked >= result.events
    # As if the sweeps had kept up: nothing is waiting to be swept right now.
    assert (await services.sla_sweep.run()).examined <= 3  # at most the demo tickets
    # The rest of the system reads them like any ticket, and new ones get fresh ids.
    page = await services.reads.tickets(demo.rita, TicketQuery(), first=5, after=None)
    assert len(page.items) == 5
    assert await services.reads.count_tickets(demo.rita, TicketQuery()) > 100
    fresh = await services.tickets.create(demo.rita, title="After bulk", description="x")
    assert fresh.id == 1204
    second = await load_tickets(services, 10, seed=7)
    assert second.tickets == 10
    assert (await services.reads.verify_audit_chain(demo.admin))[1] == []
