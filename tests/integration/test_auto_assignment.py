"""Skill-based auto-assignment through the service layer on both databases (issue 7,
SPEC §9): skill, load, round-robin ties, audited as the system; refusals change nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from sets.domain.actor import Actor
from sets.domain.assignment import AUTO_ASSIGN_SKIPPED
from sets.domain.enums import EventKind, Role, TicketStatus
from sets.domain.errors import ErrorCode
from sets.models import Notification, Ticket
from sets.services.assignment import AssignmentReads
from tests.integration.support import PASSWORD, Demo, raises_domain

S = TicketStatus
SYSTEM = Actor.system()


async def _staff(
    demo: Demo,
    email: str,
    team_id: int,
    *,
    skills: tuple[str, ...] = (),
    role: Role = Role.AGENT,
) -> int:
    admin = demo.services.admin
    user = await admin.create_user(
        SYSTEM, email=email, name=email.split("@")[0].title(), role=role, password=PASSWORD
    )
    await admin.set_membership(SYSTEM, team_id=team_id, user_id=user.id, member=True)
    if skills:
        await admin.set_user_skills(SYSTEM, user.id, list(skills))
    return user.id


async def _queue(
    demo: Demo, *, skill: str | None = "network", auto: bool = True
) -> tuple[int, int]:
    """A "Network Ops" team and a "Wi-Fi" category routed to it: (team id, category id)."""
    admin = demo.services.admin
    team = await admin.create_team(demo.admin, name="Network Ops")
    category = await admin.save_category(
        demo.admin, name="Wi-Fi", team_id=team.id, required_skill=skill, auto_assign=auto
    )
    return team.id, category.id


async def _file(demo: Demo, category_id: int, title: str = "Wi-Fi drops") -> Ticket:
    return await demo.services.tickets.create(
        demo.rita, title=title, description="In the east wing.", category_id=category_id
    )


async def _skills(demo: Demo, user_id: int) -> list[str]:
    reads = AssignmentReads(demo.services.db.reader)
    return (await reads.skills_of_users(demo.admin, [user_id])).get(user_id, [])


async def _cursor(demo: Demo, team_id: int) -> int | None:
    return (await demo.services.reads.team(team_id)).auto_assign_last_user_id


async def test_the_skilled_member_with_the_fewest_open_tickets_gets_it(demo: Demo) -> None:
    tickets = demo.services.tickets
    team, wifi = await _queue(demo, auto=False)
    busy = await _staff(demo, "busy@example.com", team, skills=["Network"])
    calm = await _staff(demo, "calm@example.com", team, skills=["network", "vpn"])
    idle_unskilled = await _staff(demo, "idle@example.com", team, skills=["printers"])
    # Load: busy has two open tickets, calm one open and one resolved (resolved does not count).
    for owner, n in ((busy, 2), (calm, 1)):
        for i in range(n):
            t = await _file(demo, wifi, f"Load {owner}-{i}")
            await tickets.assign(demo.admin, t.id, assignee_id=owner)
    resolved = await _file(demo, wifi, "Already fixed")
    await tickets.assign(demo.admin, resolved.id, assignee_id=calm)
    await tickets.transition(demo.admin, resolved.id, S.IN_PROGRESS)
    await tickets.transition(demo.admin, resolved.id, S.RESOLVED, resolution="Rebooted the AP.")
    await demo.services.admin.save_category(demo.admin, category_id=wifi, auto_assign=True)

    ticket = await _file(demo, wifi)

    assert (ticket.assignee_id, ticket.team_id, ticket.status) == (calm, team, S.TODO)
    stored = await demo.ticket(ticket.id)
    assert (stored.assignee_id, stored.status) == (calm, S.TODO)
    events = await demo.events(ticket.id)
    assert [e.kind for e in events] == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.STATUS_CHANGED,
    ]
    created, assigned, status = events
    assert created.actor_id == demo.rita.user_id
    assert (assigned.actor_id, status.actor_id) == (None, None)  # the system
    assert assigned.data["auto"] is True
    assert assigned.data["skill"] == "network"
    assert (assigned.data["from"], assigned.data["to"], assigned.data["toTeam"]) == (
        None,
        calm,
        team,
    )
    assert (
        assigned.data["reason"] == "skill 'network'; fewest open tickets (1) of 2 qualified members"
    )
    assert (status.data["from"], status.data["to"]) == ("NEW", "TODO")
    assert ticket.assignee_id != idle_unskilled  # no open ticket, but not the skill
    assert await _cursor(demo, team) == calm
    # Notified as a manual assignment is: the assignee hears of it, from SETS.
    async with demo.services.db.reader() as session:
        notes = list(
            await session.scalars(
                select(Notification).where(
                    Notification.event_id == assigned.id, Notification.recipient_id == calm
                )
            )
        )
    assert notes and {n.event for n in notes} == {"ASSIGNED"}
    assert any("SETS assigned" in n.body and "Reason: skill 'network'" in n.body for n in notes)
    assert (await demo.services.reads.verify_audit_chain(demo.admin, ticket.id))[1] == []


async def test_never_inactive_unskilled_admins_or_members_of_other_teams(demo: Demo) -> None:
    admin = demo.services.admin
    team, wifi = await _queue(demo)
    other = await admin.create_team(demo.admin, name="Campus Network")
    await _staff(demo, "unskilled@example.com", team, skills=["printers"])
    gone = await _staff(demo, "gone@example.com", team, skills=["network"])
    await admin.update_user(demo.admin, gone, active=False)
    await _staff(demo, "boss@example.com", team, skills=["network"], role=Role.ADMIN)
    await _staff(demo, "elsewhere@example.com", other.id, skills=["network"])
    # A requester can be neither a member nor skilled; the demo's agent is in another team.
    await admin.set_user_skills(demo.admin, demo.agent.user_id or 0, ["network"])

    ticket = await _file(demo, wifi)

    assert (ticket.assignee_id, ticket.team_id, ticket.status) == (None, team, S.NEW)
    events = await demo.events(ticket.id)
    assert [e.kind for e in events] == [EventKind.CREATED, AUTO_ASSIGN_SKIPPED]
    skipped = events[1]
    assert (skipped.actor_id, skipped.internal) == (None, True)
    assert skipped.data == {
        "auto": True,
        "reason": "no active agent or manager in the team has the skill 'network'",
        "skill": "network",
        "teamId": team,
    }
    assert await _cursor(demo, team) is None
    # Staff-only: the requester's view of her ticket does not show it.
    assert [e.kind for e in await demo.events(ticket.id, demo.rita)] == [EventKind.CREATED]

    # Once a qualified member joins, the next ticket goes to them.
    fresh = await _staff(demo, "fresh@example.com", team, skills=["network"], role=Role.MANAGER)
    assert (await _file(demo, wifi, "Again")).assignee_id == fresh


async def test_fair_over_100_tickets_round_robin_on_ties(demo: Demo) -> None:
    tickets = demo.services.tickets
    team, wifi = await _queue(demo)
    agents = sorted(
        [await _staff(demo, f"net{i}@example.com", team, skills=["network"]) for i in range(4)]
    )

    picks = [(await _file(demo, wifi, f"Drop {n}")).assignee_id for n in range(100)]

    assert picks == agents * 25  # every round a tie, broken in id order after the last pick
    counts = Counter(picks)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert await _cursor(demo, team) == agents[-1]

    # Load beats the turn: two of the third agent's tickets resolved, the next two are theirs,
    # then the round-robin resumes after them.
    async with demo.services.db.reader() as session:
        theirs = list(
            await session.scalars(
                select(Ticket.id).where(Ticket.assignee_id == agents[2]).order_by(Ticket.id)
            )
        )
    for tid in theirs[:2]:
        await tickets.transition(demo.admin, tid, S.IN_PROGRESS)
        await tickets.transition(demo.admin, tid, S.RESOLVED, resolution="Done.")
    more = [(await _file(demo, wifi, f"Late {n}")).assignee_id for n in range(6)]
    assert more == [agents[2], agents[2], agents[3], agents[0], agents[1], agents[2]]
    counts = Counter(t.assignee_id for t in await _open_tickets(demo, team))
    assert counts == {a: 26 for a in agents}


async def _open_tickets(demo: Demo, team: int) -> list[Ticket]:
    async with demo.services.db.reader() as session:
        return list(
            await session.scalars(
                select(Ticket).where(
                    Ticket.team_id == team, Ticket.status.not_in([S.RESOLVED, S.CLOSED])
                )
            )
        )


async def test_concurrent_creations_never_pick_by_the_same_stale_cursor(demo: Demo) -> None:
    team, wifi = await _queue(demo)
    agents = [await _staff(demo, f"c{i}@example.com", team, skills=["network"]) for i in range(4)]
    created = await asyncio.gather(*(_file(demo, wifi, f"Storm {n}") for n in range(8)))
    assert Counter(t.assignee_id for t in created) == {a: 2 for a in agents}
    for t in created:
        assert (await demo.services.reads.verify_audit_chain(demo.admin, t.id))[1] == []


async def test_off_unless_the_category_or_the_team_turns_it_on(demo: Demo) -> None:
    admin = demo.services.admin
    team, wifi = await _queue(demo, auto=False)
    netter = await _staff(demo, "netter@example.com", team, skills=["network"])
    await _staff(demo, "printer@example.com", team, skills=["printers"])

    off = await _file(demo, wifi, "Off")
    assert (off.assignee_id, off.status) == (None, S.NEW)
    assert await demo.kinds(off.id) == [EventKind.CREATED]

    # The team's flag turns it on for every ticket routed there; the category's skill holds.
    await admin.update_team(demo.admin, team, auto_assign=True)
    assert (await _file(demo, wifi, "Team on")).assignee_id == netter
    # And the Service Desk (demo): any member, the agent or the manager, no skill needed.
    await admin.update_team(demo.admin, demo.desk, auto_assign=True)
    general = await demo.services.tickets.create(demo.rita, title="Mouse", description="Dead.")
    assert general.assignee_id in {demo.agent.user_id, demo.manager.user_id}
    assigned = (await demo.events(general.id))[1]
    assert assigned.data["skill"] is None and assigned.data["reason"].startswith("any skill;")

    await admin.update_team(demo.admin, team, auto_assign=False)
    await admin.update_team(demo.admin, demo.desk, auto_assign=False)
    later = await _file(demo, wifi, "Off again")
    assert later.assignee_id is None and await demo.kinds(later.id) == [EventKind.CREATED]


async def test_a_third_party_team_is_never_auto_assigned(demo: Demo) -> None:
    admin = demo.services.admin
    team, wifi = await _queue(demo)
    await _staff(demo, "vendorish@example.com", team, skills=["network"])
    # Turned external after the category was set up: skipped at creation, with the reason.
    await admin.update_team(demo.admin, team, external=True)
    ticket = await _file(demo, wifi)
    assert ticket.assignee_id is None
    skipped = (await demo.events(ticket.id))[-1]
    assert skipped.kind == AUTO_ASSIGN_SKIPPED
    assert skipped.data["reason"] == "a third-party team's queue is never auto-assigned"


async def test_set_user_skills_replaces_the_set(demo: Demo) -> None:
    admin = demo.services.admin
    agent = demo.agent.user_id or 0
    user = await admin.set_user_skills(demo.admin, agent, ["VPN", "Network", "vpn"])
    assert user.id == agent
    assert await _skills(demo, agent) == ["network", "vpn"]
    await admin.set_user_skills(demo.admin, agent, ["vpn", "sap_fi"])
    assert await _skills(demo, agent) == ["sap-fi", "vpn"]
    # Staff only: requesters learn nothing of them.
    reads = AssignmentReads(demo.services.db.reader)
    assert await reads.skills_of_users(demo.rita, [agent]) == {}
    await admin.set_user_skills(demo.admin, agent, [])
    assert await _skills(demo, agent) == []


async def test_every_refusal_is_coded_and_changes_nothing(demo: Demo) -> None:
    admin = demo.services.admin
    team, wifi = await _queue(demo, skill="network", auto=False)
    agent = demo.agent.user_id or 0
    await admin.set_user_skills(demo.admin, agent, ["vpn"])
    vendor_team = demo.teams["Vendor IT"]

    async def state() -> Any:
        categories = [
            (c.id, c.name, c.team_id, c.required_skill, c.auto_assign)
            for c in await demo.services.reads.categories()
        ]
        teams = [
            (t.id, t.external, t.auto_assign, t.auto_assign_last_user_id)
            for t in await demo.services.reads.teams()
        ]
        rita_skills = await _skills(demo, demo.rita.user_id or 0)
        return categories, teams, await _skills(demo, agent), rita_skills

    before = await state()
    refusals: list[tuple[Callable[[], Awaitable[Any]], ErrorCode, str | None]] = []
    for who in (demo.manager, demo.senior, demo.agent, demo.vendor, demo.rita):
        refusals += [
            (lambda a=who: admin.set_user_skills(a, agent, ["network"]), ErrorCode.FORBIDDEN, None),
            (
                lambda a=who: admin.save_category(a, category_id=wifi, auto_assign=True),
                ErrorCode.FORBIDDEN,
                None,
            ),
            (
                lambda a=who: admin.update_team(a, team, auto_assign=True),
                ErrorCode.FORBIDDEN,
                None,
            ),
        ]
    refusals += [
        (
            lambda: admin.set_user_skills(demo.admin, 987_654, ["vpn"]),
            ErrorCode.NOT_FOUND,
            "userId",
        ),
        (
            lambda: admin.set_user_skills(demo.admin, agent, ["network", "c++"]),
            ErrorCode.VALIDATION,
            "skills",
        ),
        (lambda: admin.set_user_skills(demo.admin, agent, [" "]), ErrorCode.VALIDATION, "skills"),
        (
            lambda: admin.set_user_skills(demo.admin, agent, [f"s{i}" for i in range(31)]),
            ErrorCode.VALIDATION,
            "skills",
        ),
        (
            lambda: admin.set_user_skills(demo.admin, demo.rita.user_id or 0, ["vpn"]),
            ErrorCode.VALIDATION,
            "userId",
        ),
        (
            lambda: admin.save_category(
                demo.admin, category_id=wifi, required_skill="net work!", auto_assign=True
            ),
            ErrorCode.VALIDATION,
            "requiredSkill",
        ),
        (
            lambda: admin.save_category(demo.admin, name="Floating", auto_assign=True),
            ErrorCode.VALIDATION,
            "autoAssign",
        ),
        (
            lambda: admin.save_category(
                demo.admin, category_id=wifi, team_id=vendor_team, auto_assign=True
            ),
            ErrorCode.VALIDATION,
            "autoAssign",
        ),
        (
            lambda: admin.save_category(demo.admin, category_id=987_654, auto_assign=True),
            ErrorCode.NOT_FOUND,
            "categoryId",
        ),
        (
            lambda: admin.update_team(demo.admin, vendor_team, auto_assign=True),
            ErrorCode.VALIDATION,
            "autoAssign",
        ),
        (
            lambda: admin.create_team(
                demo.admin, name="Outsourced", external=True, auto_assign=True
            ),
            ErrorCode.VALIDATION,
            "autoAssign",
        ),
        (
            lambda: admin.update_team(demo.admin, 987_654, auto_assign=True),
            ErrorCode.NOT_FOUND,
            "teamId",
        ),
    ]
    for call, code, field in refusals:
        with raises_domain(code, field) if field is not None else raises_domain(code):
            await call()
    assert await state() == before

    # Turning a team external while it auto-assigns is refused on `external`.
    await admin.update_team(demo.admin, team, auto_assign=True)
    with raises_domain(ErrorCode.VALIDATION, "external"):
        await admin.update_team(demo.admin, team, external=True)
    stored = await demo.services.reads.team(team)
    assert (stored.external, stored.auto_assign) == (False, True)
