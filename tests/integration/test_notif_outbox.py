"""Who hears of what (SPEC §7), written in the same transaction as the change, on both
databases: triggers, the actor left out, internal notes kept from requesters, @mentions,
preferences and admin defaults, and dedupe under retried or concurrent mutations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from sets.domain.actor import Actor
from sets.domain.enums import Role, TicketStatus
from sets.domain.errors import ErrorCode
from sets.domain.notifications import Audience, Channel, NotifyEvent
from sets.models import Notification, Ticket, TicketEvent
from sets.services import outbox
from sets.services.notifications import Change
from sets.services.uow import UnitOfWork
from tests.helpers import actor_of
from tests.integration.notif_support import last_id, rows_since, who_since
from tests.integration.support import PASSWORD, Demo, raises_domain

E, C = NotifyEvent, Channel
ALL_CHANNELS = {"IN_APP", "EMAIL", "SLACK", "SMS"}


async def new_ticket(demo: Demo, requester: Actor | None = None, **kw: Any) -> Ticket:
    return await demo.services.tickets.create(
        requester or demo.rita,
        title=kw.pop("title", "Printer jams"),
        description=kw.pop("description", "Every second page."),
        **kw,
    )


async def test_a_new_ticket_tells_the_requester_and_the_team_managers(demo: Demo) -> None:
    since = await last_id(demo.services)
    ticket = await new_ticket(demo)
    rita, manager = demo.rita.user_id, demo.manager.user_id
    assert await who_since(demo.services, since) == {
        (rita, "CREATED", "IN_APP"),
        (rita, "CREATED", "EMAIL"),
        (manager, "CREATED", "IN_APP"),
    }
    rows = await rows_since(demo.services, since)
    receipt = next(r for r in rows if r.recipient_id == rita and r.channel == "EMAIL")
    assert receipt.subject == f"[SETS-{ticket.id}] Received: Printer jams"
    assert f"SETS-{ticket.id}" in receipt.body
    assert (receipt.status, receipt.attempts, receipt.sent_at) == ("PENDING", 0, None)
    # In-app is delivered by being written: the row is the inbox entry.
    in_app = next(r for r in rows if r.recipient_id == rita and r.channel == "IN_APP")
    assert (in_app.status, in_app.attempts) == ("SENT", 1)
    assert {r.event_id for r in rows} == {(await demo.events(ticket.id))[0].id}


async def test_assignment_goes_to_the_assignee_on_slack(demo: Demo) -> None:
    ticket = await new_ticket(demo)
    since = await last_id(demo.services)
    await demo.services.tickets.assign(demo.manager, ticket.id, assignee_id=demo.agent.user_id)
    agent = demo.agent.user_id
    assert await who_since(demo.services, since) == {
        (agent, "ASSIGNED", "IN_APP"),
        (agent, "ASSIGNED", "SLACK"),
    }
    [slack] = [r for r in await rows_since(demo.services, since) if r.channel == "SLACK"]
    assert slack.subject.endswith("Assigned to you: Printer jams")
    assert "Max Manager assigned" in slack.body

    # Taking a ticket oneself needs no inbox entry or mail, only the Slack post that tells
    # the team's channel who has it; the transfer tells the previous owner.
    other = await demo.new_agent("agent.two@example.com")
    since = await last_id(demo.services)
    await demo.services.tickets.assign(
        other, ticket.id, assignee_id=other.user_id, reason="I know this printer"
    )
    assert await who_since(demo.services, since) == {
        (agent, "ASSIGNED", "IN_APP"),
        (agent, "ASSIGNED", "SLACK"),
        (other.user_id, "ASSIGNED", "SLACK"),
    }
    moved = [r for r in await rows_since(demo.services, since) if r.recipient_id == agent]
    assert all("Reason: I know this printer" in r.body for r in moved)
    [took] = [r for r in await rows_since(demo.services, since) if r.recipient_id != agent]
    assert took.body.startswith(f"Agent.Two took SETS-{ticket.id}.")


async def test_status_changes_reach_the_requester_by_email(demo: Demo) -> None:
    svc = demo.services.tickets
    ticket = await new_ticket(demo)
    since = await last_id(demo.services)
    await svc.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id)  # NEW -> TODO
    # Queue bookkeeping (NEW -> TODO) is quiet: only the Slack post of the take.
    assert await who_since(demo.services, since) == {(demo.agent.user_id, "ASSIGNED", "SLACK")}

    since = await last_id(demo.services)
    await svc.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS)
    rita, agent = demo.rita.user_id, demo.agent.user_id
    assert await who_since(demo.services, since) == {
        (rita, "STATUS_CHANGED", "IN_APP"),
        (rita, "STATUS_CHANGED", "EMAIL"),
    }

    since = await last_id(demo.services)
    await svc.transition(demo.agent, ticket.id, TicketStatus.RESOLVED, resolution="New drum.")
    rows = await rows_since(demo.services, since)
    assert {(r.recipient_id, r.event, r.channel) for r in rows} == {
        (rita, "RESOLVED", "IN_APP"),
        (rita, "RESOLVED", "EMAIL"),
    }
    assert "Resolution: New drum." in rows[0].body

    since = await last_id(demo.services)
    await svc.transition(demo.rita, ticket.id, TicketStatus.IN_PROGRESS, reason="Jams again")
    assert await who_since(demo.services, since) == {(agent, "STATUS_CHANGED", "IN_APP")}

    await svc.transition(demo.agent, ticket.id, TicketStatus.RESOLVED, resolution="Cleaned.")
    since = await last_id(demo.services)
    await svc.transition(demo.rita, ticket.id, TicketStatus.CLOSED)
    assert await who_since(demo.services, since) == {(agent, "CLOSED", "IN_APP")}


async def test_internal_notes_never_reach_the_requester(demo: Demo) -> None:
    svc = demo.services.tickets
    ticket = await new_ticket(demo)
    await svc.assign(demo.manager, ticket.id, assignee_id=demo.agent.user_id)
    secret = "The vendor contract lapsed, do not tell the customer"
    since = await last_id(demo.services)
    # Even a mention of the requester in an internal note does not reach them.
    await svc.add_comment(
        demo.manager, ticket.id, body=f"{secret}. @requester @agent", internal=True
    )
    rows = await rows_since(demo.services, since)
    assert {(r.recipient_id, r.event, r.channel) for r in rows} == {
        (demo.agent.user_id, "MENTIONED", "IN_APP"),
        (demo.agent.user_id, "MENTIONED", "EMAIL"),
        (demo.agent.user_id, "MENTIONED", "SLACK"),
    }
    assert all(r.payload["internal"] for r in rows)

    await svc.add_comment(demo.agent, ticket.id, body="Public: we are on it.")
    await svc.add_comment(demo.agent, ticket.id, body=f"Internal again: {secret}", internal=True)
    async with demo.services.db.reader() as session:
        ritas = list(
            await session.scalars(
                select(Notification).where(Notification.recipient_id == demo.rita.user_id)
            )
        )
    assert ritas and all(secret not in r.body and secret not in r.subject for r in ritas)
    assert any("Public: we are on it." in r.body for r in ritas)


async def test_mentions_reach_only_people_who_may_see_the_ticket(demo: Demo) -> None:
    svc = demo.services.tickets
    ticket = await new_ticket(demo)  # General: the service desk's queue
    await svc.assign(demo.manager, ticket.id, assignee_id=demo.agent.user_id)
    gone = await demo.new_agent("leaver@example.com")
    await demo.services.admin.update_user(Actor.system(), gone.user_id, active=False)
    since = await last_id(demo.services)
    await svc.add_comment(
        demo.manager,
        ticket.id,
        body="@agent and @senior please look; @vendor cannot see this; @leaver has left; "
        "@nobody does not exist; mail manager@example.com is no mention",
    )
    got = await who_since(demo.services, since)
    mentioned = {(r, c) for r, e, c in got if e == "MENTIONED"}
    assert {r for r, _ in mentioned} == {demo.agent.user_id, demo.senior.user_id}
    # The assignee is mentioned: one MENTIONED per channel, no extra COMMENTED.
    assert {(r, e) for r, e, _ in got} == {
        (demo.agent.user_id, "MENTIONED"),
        (demo.senior.user_id, "MENTIONED"),
        (demo.rita.user_id, "COMMENTED"),
    }
    # An external vendor sees only what is routed to its team; once it is, they hear.
    await svc.assign(
        demo.admin, ticket.id, assignee_id=None, team_id=demo.teams["Vendor IT"], reason="Vendor"
    )
    since = await last_id(demo.services)
    await svc.add_comment(demo.admin, ticket.id, body="@vendor over to you")
    assert (demo.vendor.user_id, "MENTIONED", "IN_APP") in await who_since(demo.services, since)


async def test_requester_comment_on_an_unowned_ticket_tells_the_team(demo: Demo) -> None:
    ticket = await new_ticket(demo)
    since = await last_id(demo.services)
    await demo.services.tickets.add_comment(demo.rita, ticket.id, body="Any news?")
    assert await who_since(demo.services, since) == {
        (demo.manager.user_id, "COMMENTED", "IN_APP"),
        (demo.manager.user_id, "COMMENTED", "EMAIL"),
    }


async def test_manual_escalation_to_level_three_tells_the_admins(demo: Demo) -> None:
    svc = demo.services.tickets
    ticket = await new_ticket(demo)
    await svc.assign(demo.manager, ticket.id, assignee_id=demo.agent.user_id)
    await svc.escalate(demo.manager, ticket.id, reason="VIP")
    assert {r for r, *_ in await who_since(demo.services, 0) if r == demo.admin.user_id} == set()
    await svc.escalate(demo.manager, ticket.id, reason="VIP")
    since = await last_id(demo.services)
    await svc.escalate(demo.agent, ticket.id, reason="Still down")
    got = await who_since(demo.services, since)
    assert {r for r, _, _ in got} == {demo.manager.user_id, demo.admin.user_id}
    assert {e for _, e, _ in got} == {"ESCALATED"}


async def test_preferences_pick_the_channels(demo: Demo) -> None:
    prefs = demo.services.notifications
    ticket = await new_ticket(demo)
    await demo.services.tickets.assign(demo.manager, ticket.id, assignee_id=demo.agent.user_id)
    # Rita wants no mail about replies, but a text message.
    await prefs.update_preferences(
        demo.rita, [Change(E.COMMENTED, C.EMAIL, False), Change(E.COMMENTED, C.SMS, True)]
    )
    # Admins switch Slack off for assignments by default; the senior opts back in.
    await prefs.update_defaults(demo.admin, Audience.STAFF, [Change(E.ASSIGNED, C.SLACK, False)])
    await prefs.update_preferences(demo.senior, [Change(E.ASSIGNED, C.SLACK, True)])

    since = await last_id(demo.services)
    await demo.services.tickets.add_comment(demo.agent, ticket.id, body="Which tray?")
    assert await who_since(demo.services, since) == {
        (demo.rita.user_id, "COMMENTED", "IN_APP"),
        (demo.rita.user_id, "COMMENTED", "SMS"),
    }
    other = await new_ticket(demo)
    since = await last_id(demo.services)
    await demo.services.tickets.assign(demo.admin, other.id, assignee_id=demo.agent.user_id)
    assert await who_since(demo.services, since) == {(demo.agent.user_id, "ASSIGNED", "IN_APP")}
    third = await new_ticket(demo)
    since = await last_id(demo.services)
    await demo.services.tickets.assign(
        demo.admin, third.id, assignee_id=demo.senior.user_id, team_id=demo.teams["Senior Support"]
    )
    assert (demo.senior.user_id, "ASSIGNED", "SLACK") in await who_since(demo.services, since)

    cells = {(c.event, c.channel): c for c in await prefs.preferences(demo.rita)}
    assert (cells[(E.COMMENTED, C.EMAIL)].enabled, cells[(E.COMMENTED, C.EMAIL)].source) == (
        False,
        "USER",
    )
    assert cells[(E.CREATED, C.EMAIL)].source == "BUILT_IN"
    assert (E.COMMENTED, C.SLACK) not in cells  # requesters are never on Slack
    with raises_domain(ErrorCode.VALIDATION, "preferences"):
        await prefs.update_preferences(demo.rita, [Change(E.COMMENTED, C.SLACK, True)])
    with raises_domain(ErrorCode.FORBIDDEN):
        await prefs.update_defaults(demo.manager, Audience.STAFF, [])
    reset = await prefs.update_preferences(demo.rita, [], reset=True)
    assert {c.source for c in reset} == {"BUILT_IN"}


async def test_a_deactivated_user_hears_nothing(demo: Demo) -> None:
    await demo.services.admin.update_user(Actor.system(), demo.manager.user_id, active=False)
    since = await last_id(demo.services)
    await new_ticket(demo)
    assert {r for r, *_ in await who_since(demo.services, since)} == {demo.rita.user_id}


async def test_retried_mutations_write_no_duplicates(demo: Demo) -> None:
    svc = demo.services.tickets
    ticket = await new_ticket(demo)
    version = (await demo.ticket(ticket.id)).version
    since = await last_id(demo.services)
    await svc.assign(
        demo.manager, ticket.id, assignee_id=demo.agent.user_id, expected_version=version
    )
    first = await who_since(demo.services, since)
    # The client did not see the answer and sends the same mutation again.
    with raises_domain(ErrorCode.CONFLICT, "expectedVersion"):
        await svc.assign(
            demo.manager, ticket.id, assignee_id=demo.agent.user_id, expected_version=version
        )
    with raises_domain(ErrorCode.VALIDATION):
        await svc.assign(demo.manager, ticket.id, assignee_id=demo.agent.user_id)
    assert len(await rows_since(demo.services, since)) == len(first) == 2


async def test_a_failed_commit_notifies_nobody_and_its_retry_once(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = await new_ticket(demo)
    real_commit = UnitOfWork.commit
    failing = True

    async def flaky_commit(uow: UnitOfWork) -> None:
        if failing:
            await uow.session.flush()  # the rows existed in the transaction ...
            raise ConnectionError("database went away before COMMIT")
        await real_commit(uow)

    monkeypatch.setattr(UnitOfWork, "commit", flaky_commit)
    since = await last_id(demo.services)
    with pytest.raises(ConnectionError):
        await demo.services.tickets.add_comment(demo.agent, ticket.id, body="First try")
    assert await rows_since(demo.services, since) == []  # ... and went with the rollback
    failing = False
    await demo.services.tickets.add_comment(demo.agent, ticket.id, body="First try")
    assert await who_since(demo.services, since) == {
        (demo.rita.user_id, "COMMENTED", "IN_APP"),
        (demo.rita.user_id, "COMMENTED", "EMAIL"),
    }


async def test_replaying_the_outbox_for_an_event_writes_nothing_new(demo: Demo) -> None:
    ticket = await new_ticket(demo)
    [created] = await demo.events(ticket.id)
    since = await last_id(demo.services)
    async with demo.services.uow() as uow:
        locked = await uow.tickets.get(ticket.id, for_update=True)
        assert locked is not None
        event = await uow.session.get(TicketEvent, created.id)
        assert event is not None
        again = await outbox.notify(
            uow, locked, event, [demo.rita.user_id], subject="again", body="again"
        )
        await uow.commit()
    assert again == []
    assert await rows_since(demo.services, since) == []


async def test_two_identical_assignments_at_once_notify_once(demo: Demo) -> None:
    ticket = await new_ticket(demo)
    version = (await demo.ticket(ticket.id)).version
    since = await last_id(demo.services)
    results = await asyncio.gather(
        *[
            demo.services.tickets.assign(
                demo.manager, ticket.id, assignee_id=demo.agent.user_id, expected_version=version
            )
            for _ in range(3)
        ],
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert await who_since(demo.services, since) == {
        (demo.agent.user_id, "ASSIGNED", "IN_APP"),
        (demo.agent.user_id, "ASSIGNED", "SLACK"),
    }


async def test_the_inbox_pages_and_marks_read(demo: Demo) -> None:
    svc = demo.services.notifications
    for n in range(5):
        await new_ticket(demo, title=f"Ticket {n}")
    first = await svc.inbox(demo.rita, first=3, before_id=None, unread_only=False)
    assert len(first.items) == 3 and first.has_next
    assert [r.id for r in first.items] == sorted((r.id for r in first.items), reverse=True)
    assert all(r.channel == "IN_APP" and r.recipient_id == demo.rita.user_id for r in first.items)
    rest = await svc.inbox(demo.rita, first=100, before_id=first.items[-1].id, unread_only=False)
    assert first.total == len(first.items) + len(rest.items) == first.unread

    assert await svc.mark_read(demo.rita, [first.items[0].id, first.items[1].id]) == 2
    assert await svc.mark_read(demo.rita, [first.items[0].id]) == 0  # already read: fine
    unread = await svc.inbox(demo.rita, first=100, before_id=None, unread_only=True)
    assert unread.total == first.total - 2 == unread.unread
    manager_row = (await svc.inbox(demo.manager, first=1, before_id=None, unread_only=False)).items
    with raises_domain(ErrorCode.NOT_FOUND, "ids"):
        await svc.mark_read(demo.rita, [manager_row[0].id, first.items[2].id])
    assert (await svc.inbox(demo.rita, first=1, before_id=None, unread_only=True)).unread == (
        unread.unread
    )  # nothing was marked
    assert await svc.mark_read(demo.rita, None) == unread.unread
    assert await svc.unread_count(demo.rita) == 0
    with raises_domain(ErrorCode.NOT_FOUND):
        await svc.get(demo.rita, manager_row[0].id)


async def test_sms_preference_for_a_new_user(demo: Demo) -> None:
    """Preferences belong to the user, whatever their role; staff may use every channel."""
    await demo.services.admin.create_user(
        Actor.system(),
        email="nina@example.com",
        name="Nina",
        role=Role.REQUESTER,
        password=PASSWORD,
    )
    nina = await actor_of(demo.services, "nina@example.com")
    cells = await demo.services.notifications.preferences(nina)
    assert {c.channel.value for c in cells} == ALL_CHANNELS - {"SLACK"}
    staff = await demo.services.notifications.preferences(demo.agent)
    assert {c.channel.value for c in staff} == ALL_CHANNELS


async def test_notifying_keeps_one_version_bump_per_mutation(demo: Demo) -> None:
    """Triggers run last in each use case: the flush they need must not write the ticket
    before its final state (which would bump `version` twice)."""
    svc = demo.services.tickets
    ticket = await new_ticket(demo)
    steps = [
        lambda: svc.assign(demo.agent, ticket.id, assignee_id=demo.agent.user_id),
        lambda: svc.unassign(demo.agent, ticket.id),
        lambda: svc.assign(demo.manager, ticket.id, assignee_id=demo.agent.user_id),
        lambda: svc.transition(demo.agent, ticket.id, TicketStatus.IN_PROGRESS),
        lambda: svc.add_comment(demo.rita, ticket.id, body="@agent any news?"),
        lambda: svc.escalate(demo.manager, ticket.id, reason="VIP"),
    ]
    for step in steps:
        before = (await demo.ticket(ticket.id)).version
        await step()
        assert (await demo.ticket(ticket.id)).version == before + 1
