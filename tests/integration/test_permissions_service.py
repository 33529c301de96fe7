"""Who sees and does what, enforced in the service layer (SPEC §1, §11)."""

from __future__ import annotations

from sets.domain.actor import Actor
from sets.domain.enums import EventKind, Priority, TicketStatus
from sets.domain.errors import ErrorCode
from sets.models import Ticket
from sets.repositories.tickets import TicketQuery
from tests.integration.support import Demo, raises_domain


async def _ticket_with_internal_note(demo: Demo) -> Ticket:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Badge reader", description="Door 3.")
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    await tickets.add_comment(demo.agent, ticket.id, body="Rita's badge expired.", internal=True)
    await tickets.add_comment(demo.agent, ticket.id, body="Please come by the desk.")
    return ticket


async def _visible_ids(demo: Demo, actor: Actor) -> set[int]:
    page = await demo.services.reads.tickets(actor, TicketQuery(), first=100, after=None)
    assert not page.has_next
    assert await demo.services.reads.count_tickets(actor, TicketQuery()) == len(page.items)
    return {t.id for t in page.items}


async def test_requester_cannot_see_another_requesters_ticket(demo: Demo) -> None:
    reads, tickets = demo.services.reads, demo.services.tickets
    ticket = await _ticket_with_internal_note(demo)
    with raises_domain(ErrorCode.NOT_FOUND):
        await reads.ticket(demo.carl, ticket.id)
    assert ticket.id not in await _visible_ids(demo, demo.carl)
    with raises_domain(ErrorCode.NOT_FOUND, "ticketId"):
        await tickets.add_comment(demo.carl, ticket.id, body="me too")
    with raises_domain(ErrorCode.NOT_FOUND, "ticketId"):
        await tickets.update(demo.carl, ticket.id, title="mine now")
    # NOT_FOUND, not FORBIDDEN: the answer is the same as for a ticket that does not exist.
    with raises_domain(ErrorCode.NOT_FOUND, "ticketId"):
        await tickets.add_comment(demo.carl, 987_654, body="me too")


async def test_requester_never_sees_internal_notes_or_their_events(demo: Demo) -> None:
    reads = demo.services.reads
    ticket = await _ticket_with_internal_note(demo)

    staff_events = await demo.events(ticket.id, demo.agent)
    rita_events = await demo.events(ticket.id, demo.rita)
    internal = [e for e in staff_events if e.internal]
    assert len(internal) == 1
    assert internal[0].kind == EventKind.COMMENTED
    assert [e.id for e in rita_events] == [e.id for e in staff_events if not e.internal]
    counts = await reads.count_events(demo.rita, [ticket.id])
    assert counts == {ticket.id: len(staff_events) - 1}

    staff_comments = (await reads.comments(demo.agent, [ticket.id], after_id=None, limit=50))[
        ticket.id
    ]
    rita_comments = (await reads.comments(demo.rita, [ticket.id], after_id=None, limit=50))[
        ticket.id
    ]
    assert [c.internal for c in staff_comments] == [True, False]
    assert [c.body for c in rita_comments] == ["Please come by the desk."]
    assert await reads.count_comments(demo.rita, [ticket.id]) == {ticket.id: 1}

    note = staff_comments[0]
    assert (await reads.comment(demo.manager, note.id)).body == "Rita's badge expired."
    with raises_domain(ErrorCode.NOT_FOUND):
        await reads.comment(demo.rita, note.id)
    with raises_domain(ErrorCode.NOT_FOUND):
        await reads.comment(demo.carl, rita_comments[0].id)


async def test_requester_cannot_write_or_reply_to_internal_notes(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await _ticket_with_internal_note(demo)
    note = (await demo.services.reads.comments(demo.agent, [ticket.id], after_id=None, limit=1))[
        ticket.id
    ][0]
    assert note.internal
    rows = await demo.row_counts()
    with raises_domain(ErrorCode.FORBIDDEN, "internal"):
        await tickets.add_comment(demo.rita, ticket.id, body="secret", internal=True)
    # A reply to a note the requester may not see must not confirm that it exists.
    with raises_domain(ErrorCode.NOT_FOUND, "parentId"):
        await tickets.add_comment(demo.rita, ticket.id, body="re: note", parent_id=note.id)
    # Staff replying publicly to an internal note would leak it into the public thread.
    with raises_domain(ErrorCode.VALIDATION, "internal"):
        await tickets.add_comment(demo.agent, ticket.id, body="re", parent_id=note.id)
    assert await demo.row_counts() == rows

    reply = await tickets.add_comment(
        demo.manager, ticket.id, body="ok", internal=True, parent_id=note.id
    )
    assert reply.parent_id == note.id


async def test_requester_comment_is_not_a_first_response(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Wifi", description="Slow on floor 4.")
    await tickets.add_comment(demo.rita, ticket.id, body="Any news?")
    assert (await demo.ticket(ticket.id)).first_responded_at is None
    # Staff who file a ticket for themselves do not answer it by commenting either.
    own = await tickets.create(demo.agent, title="My screen", description="Dead pixel.")
    await tickets.add_comment(demo.agent, own.id, body="Adding a photo later.")
    assert (await demo.ticket(own.id)).first_responded_at is None


async def test_list_visibility_matches_single_ticket_visibility(demo: Demo) -> None:
    """The SQL filter for lists and the per-ticket check must agree for every actor."""
    await _ticket_with_internal_note(demo)
    all_ids = await demo.ticket_ids()
    for actor in (
        demo.admin,
        demo.manager,
        demo.agent,
        demo.senior,
        demo.vendor,
        demo.rita,
        demo.carl,
    ):
        listed = await _visible_ids(demo, actor)
        viewable = set()
        for ticket_id in all_ids:
            try:
                await demo.services.reads.ticket(actor, ticket_id)
            except Exception as exc:
                assert getattr(exc, "code", None) is ErrorCode.NOT_FOUND, exc
            else:
                viewable.add(ticket_id)
        assert listed == viewable, actor


async def test_requesters_list_only_their_own_tickets(demo: Demo) -> None:
    rita_ids = await _visible_ids(demo, demo.rita)
    carl_ids = await _visible_ids(demo, demo.carl)
    assert len(rita_ids) == 2 and len(carl_ids) == 1
    assert not rita_ids & carl_ids
    assert rita_ids | carl_ids == await demo.ticket_ids()
    # Asking for someone else's tickets by filter gives nothing, not their tickets.
    query = TicketQuery(requester_ids=[demo.carl.user_id or 0])
    page = await demo.services.reads.tickets(demo.rita, query, first=10, after=None)
    assert page.items == []
    assert await demo.services.reads.count_tickets(demo.rita, query) == 0


async def test_external_vendor_sees_only_tickets_routed_to_their_team(demo: Demo) -> None:
    reads, tickets = demo.services.reads, demo.services.tickets
    vendor_team = demo.teams["Vendor IT"]
    # Network tickets are worked by the Service Desk first: not yet the vendor's business.
    vpn = await tickets.create(
        demo.rita,
        title="Site VPN unstable",
        description="Drops every hour.",
        category_id=demo.categories["Network"],
    )
    assert vpn.team_id == demo.desk
    assert await _visible_ids(demo, demo.vendor) == set()
    with raises_domain(ErrorCode.NOT_FOUND):
        await reads.ticket(demo.vendor, vpn.id)
    with raises_domain(ErrorCode.NOT_FOUND):
        await tickets.assign(demo.vendor, vpn.id, assignee_id=demo.vendor.user_id)

    # Internal staff see every queue, including one they are not in.
    assert vpn.id in await _visible_ids(demo, demo.senior)

    routed = await tickets.assign(demo.admin, vpn.id, assignee_id=None, team_id=vendor_team)
    assert (routed.team_id, routed.assignee_id) == (vendor_team, None)
    assert await _visible_ids(demo, demo.vendor) == {vpn.id}
    assert (await reads.ticket(demo.vendor, vpn.id)).id == vpn.id

    taken = await tickets.assign(demo.vendor, vpn.id, assignee_id=demo.vendor.user_id)
    assert (taken.assignee_id, taken.status) == (demo.vendor.user_id, TicketStatus.TODO)
    # Routed back, the vendor loses sight of it again.
    back = await tickets.assign(
        demo.admin, vpn.id, assignee_id=None, team_id=demo.desk, reason="back to the desk"
    )
    assert (back.team_id, back.assignee_id, back.status) == (demo.desk, None, TicketStatus.NEW)
    assert await _visible_ids(demo, demo.vendor) == set()
    with raises_domain(ErrorCode.NOT_FOUND):
        await reads.ticket(demo.vendor, vpn.id)


async def test_who_may_change_priority_and_escalate(demo: Demo) -> None:
    """SPEC §1: the assignee works the ticket; managers of its team and admins override."""
    tickets = demo.services.tickets
    second = await demo.new_agent("bea@example.com")
    ticket = await tickets.create(demo.rita, title="Fax", description="Jams.")
    await tickets.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)
    events = len(await demo.events(ticket.id))

    refused = [
        (second, ErrorCode.FORBIDDEN),  # same team, but not theirs
        (demo.senior, ErrorCode.FORBIDDEN),  # a manager, but of another team
        (demo.rita, ErrorCode.FORBIDDEN),  # the requester
        (demo.carl, ErrorCode.NOT_FOUND),  # a stranger
        (demo.vendor, ErrorCode.NOT_FOUND),  # an external team not routed to
    ]
    for actor, code in refused:
        with raises_domain(code):
            await tickets.change_priority(actor, ticket.id, Priority.P1, reason="urgent")
        with raises_domain(code):
            await tickets.escalate(actor, ticket.id, reason="urgent")
    assert len(await demo.events(ticket.id)) == events
    assert (await demo.ticket(ticket.id)).priority is Priority.P3

    allowed = [
        (demo.agent, Priority.P2),
        (demo.manager, Priority.P1),
        (demo.admin, Priority.P4),
    ]
    for actor, priority in allowed:
        changed = await tickets.change_priority(actor, ticket.id, priority, reason="triage")
        assert changed.priority is priority
    for actor in (demo.agent, demo.manager, demo.admin):
        await tickets.escalate(actor, ticket.id, reason="triage")
    assert (await demo.ticket(ticket.id)).escalation_level == 3


async def test_agent_cannot_route_tickets_to_other_teams(demo: Demo) -> None:
    tickets = demo.services.tickets
    ticket = await tickets.create(demo.rita, title="Printer", description="Toner.")
    with raises_domain(ErrorCode.FORBIDDEN, "teamId"):
        await tickets.assign(
            demo.agent, ticket.id, assignee_id=None, team_id=demo.teams["Senior Support"]
        )
    # The manager may hand it to anyone of their own team, not outside it.
    with raises_domain(ErrorCode.VALIDATION, "assigneeId"):
        await tickets.assign(demo.manager, ticket.id, assignee_id=demo.senior.user_id)
    ticket = await tickets.assign(demo.manager, ticket.id, assignee_id=demo.agent.user_id)
    assert ticket.assignee_id == demo.agent.user_id


async def test_admin_only_reads(demo: Demo) -> None:
    reads = demo.services.reads
    for actor in (demo.manager, demo.agent, demo.rita):
        with raises_domain(ErrorCode.FORBIDDEN):
            await reads.verify_audit_chain(actor)
    for actor in (demo.rita, demo.carl):
        with raises_domain(ErrorCode.FORBIDDEN):
            await reads.users(actor, role=None, after_id=None, first=10)
        with raises_domain(ErrorCode.FORBIDDEN):
            await reads.priority_rules(actor)
    # A requester may look up themself, not other people.
    assert (await reads.user(demo.rita, demo.rita.user_id or 0)).email == "requester@example.com"
    with raises_domain(ErrorCode.NOT_FOUND):
        await reads.user(demo.rita, demo.agent.user_id or 0)


async def test_reply_parent_must_belong_to_the_same_ticket(demo: Demo) -> None:
    tickets = demo.services.tickets
    first = await _ticket_with_internal_note(demo)
    other = await tickets.create(demo.rita, title="Other", description="Unrelated.")
    public = (await demo.services.reads.comments(demo.rita, [first.id], after_id=None, limit=5))[
        first.id
    ][0]
    rows = await demo.row_counts()
    with raises_domain(ErrorCode.NOT_FOUND, "parentId"):
        await tickets.add_comment(demo.rita, other.id, body="re", parent_id=public.id)
    assert await demo.row_counts() == rows
    reply = await tickets.add_comment(demo.rita, first.id, body="re", parent_id=public.id)
    assert reply.parent_id == public.id
