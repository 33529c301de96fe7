"""Ticket links (issue 7) on both databases."""

from __future__ import annotations

from sets.domain.enums import TicketStatus
from sets.domain.errors import ErrorCode
from sets.domain.links import LinkKind
from tests.integration.collab_support import in_progress, snapshot
from tests.integration.support import Demo, raises_domain


async def test_blocked_ticket_cannot_be_resolved_until_the_blocker_is(demo: Demo) -> None:
    links, tickets = demo.services.links, demo.services.tickets
    blocker = await in_progress(demo, "Network switch down")
    blocked = await in_progress(demo, "Cannot print")
    link, _ = await links.link(demo.agent, blocker, blocked, LinkKind.BLOCKS)
    assert (link.from_ticket_id, link.to_ticket_id, link.kind) == (blocker, blocked, "BLOCKS")
    before = await snapshot(demo)
    with raises_domain(ErrorCode.INVALID_TRANSITION, "to") as refused:
        await tickets.transition(demo.agent, blocked, TicketStatus.RESOLVED, resolution="x")
    assert f"SETS-{blocker}" in refused.value.message
    # Not even a manager's force overrides a blocker.
    with raises_domain(ErrorCode.INVALID_TRANSITION, "to"):
        await tickets.transition(
            demo.manager, blocked, TicketStatus.RESOLVED, resolution="x", force=True
        )
    assert await snapshot(demo) == before

    await tickets.transition(demo.agent, blocker, TicketStatus.RESOLVED, resolution="Swapped.")
    done = await tickets.transition(demo.agent, blocked, TicketStatus.RESOLVED, resolution="Ok")
    assert done.status is TicketStatus.RESOLVED
    assert "LINKED" in await demo.kinds(blocker) and "LINKED" in await demo.kinds(blocked)


async def test_unlink_lifts_the_block(demo: Demo) -> None:
    links, tickets = demo.services.links, demo.services.tickets
    a, b = await in_progress(demo, "A"), await in_progress(demo, "B")
    link, _ = await links.link(demo.agent, a, b, LinkKind.BLOCKS)
    await links.unlink(demo.agent, link.id)
    assert (await demo.services.collaboration.links(demo.agent, [a]))[a] == []
    resolved = await tickets.transition(demo.agent, b, TicketStatus.RESOLVED, resolution="ok")
    assert resolved.status is TicketStatus.RESOLVED
    assert (await demo.kinds(a))[-1] == "UNLINKED"
    with raises_domain(ErrorCode.NOT_FOUND, "linkId"):
        await links.unlink(demo.agent, link.id)


async def test_blocks_cycles_and_other_refusals_change_nothing(demo: Demo) -> None:
    links = demo.services.links
    a, b, c = [await in_progress(demo, t) for t in "ABC"]
    await links.link(demo.agent, a, b, LinkKind.BLOCKS)
    await links.link(demo.agent, b, c, LinkKind.BLOCKS)
    await links.link(demo.agent, a, c, LinkKind.RELATES_TO)
    carls = await in_progress(demo, "Carl's", requester=demo.carl)
    before = await snapshot(demo)
    cases = [
        (ErrorCode.VALIDATION, "toTicketId", links.link(demo.agent, c, a, LinkKind.BLOCKS)),
        (ErrorCode.VALIDATION, "toTicketId", links.link(demo.agent, b, a, LinkKind.BLOCKS)),
        (ErrorCode.VALIDATION, "toTicketId", links.link(demo.agent, a, a, LinkKind.RELATES_TO)),
        (ErrorCode.CONFLICT, "toTicketId", links.link(demo.agent, a, b, LinkKind.BLOCKS)),
        # RELATES_TO is symmetric: the reverse link already exists.
        (ErrorCode.CONFLICT, "toTicketId", links.link(demo.agent, c, a, LinkKind.RELATES_TO)),
        (ErrorCode.NOT_FOUND, "toTicketId", links.link(demo.agent, a, 99999, LinkKind.BLOCKS)),
        (ErrorCode.NOT_FOUND, "fromTicketId", links.link(demo.rita, carls, a, LinkKind.BLOCKS)),
        (ErrorCode.FORBIDDEN, "ticketId", links.link(demo.rita, a, b, LinkKind.RELATES_TO)),
        (ErrorCode.FORBIDDEN, "ticketId", links.link(demo.senior, a, b, LinkKind.RELATES_TO)),
        (ErrorCode.NOT_FOUND, "linkId", links.unlink(demo.agent, 424242)),
    ]
    for code, field, call in cases:
        with raises_domain(code, field):
            await call
    assert await snapshot(demo) == before


async def test_duplicates_closes_the_duplicate_with_a_reference(demo: Demo) -> None:
    links, tickets = demo.services.links, demo.services.tickets
    original = await in_progress(demo, "Email down")
    duplicate = (await tickets.create(demo.carl, title="No email", description="?")).id
    link, closed = await links.link(demo.manager, duplicate, original, LinkKind.DUPLICATES)
    assert closed.status is TicketStatus.CLOSED and closed.closed_at is not None
    last = (await demo.events(duplicate))[-1]
    assert last.kind == "STATUS_CHANGED" and not last.internal
    assert last.data["duplicateOf"] == original
    assert last.data["reason"] == f"duplicate of SETS-{original}"
    # The requester sees their ticket closed with the reference (the link event is internal).
    assert (await demo.events(duplicate, demo.carl))[-1].id == last.id
    assert (await demo.ticket(original)).status is TicketStatus.IN_PROGRESS
    shown = await demo.services.collaboration.links(demo.agent, [original])
    assert [r.id for r in shown[original]] == [link.id]
    # Carl cannot see the original, so the link is not shown to him.
    assert (await demo.services.collaboration.links(demo.carl, [duplicate]))[duplicate] == []
    before = await snapshot(demo)
    with raises_domain(ErrorCode.TICKET_CLOSED):
        await links.link(demo.manager, duplicate, original, LinkKind.RELATES_TO)
    with raises_domain(ErrorCode.TICKET_CLOSED, "toTicketId"):
        await links.link(demo.manager, original, duplicate, LinkKind.BLOCKS)
    assert await snapshot(demo) == before
