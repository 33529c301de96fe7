"""Admin use cases: people, teams, categories and priority rules (SPEC §1, §3, §9)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sets.domain.actor import Actor
from sets.domain.enums import Priority, Role, Urgency
from sets.domain.errors import ErrorCode
from tests.integration.support import PASSWORD, Demo, raises_domain


def _admin_calls(demo: Demo) -> list[Callable[[Actor], Awaitable[Any]]]:
    admin = demo.services.admin
    agent_id = demo.agent.user_id or 0
    return [
        lambda a: admin.create_user(
            a, email="new@example.com", name="New", role=Role.ADMIN, password=PASSWORD
        ),
        lambda a: admin.update_user(a, agent_id, role=Role.ADMIN),
        lambda a: admin.update_user(a, agent_id, active=False),
        lambda a: admin.create_team(a, name="Shadow IT"),
        lambda a: admin.update_team(a, demo.desk, external=True),
        lambda a: admin.set_membership(a, team_id=demo.desk, user_id=agent_id, member=False),
        lambda a: admin.save_category(a, name="Mine", is_default=True),
        lambda a: admin.delete_category(a, demo.categories["General"]),
        lambda a: admin.save_priority_rule(
            a, name="Everything", priority=Priority.P1, keywords=["the"], position=0
        ),
    ]


async def test_non_admins_are_refused_and_nothing_changes(demo: Demo) -> None:
    before_users = (
        await demo.services.reads.users(demo.admin, role=None, after_id=None, first=50)
    ).total
    before_categories = await demo.services.reads.categories()
    before_rules = await demo.services.reads.priority_rules(demo.admin)
    for actor in (demo.manager, demo.senior, demo.agent, demo.vendor, demo.rita):
        for call in _admin_calls(demo):
            with raises_domain(ErrorCode.FORBIDDEN):
                await call(actor)
    after = await demo.services.reads.users(demo.admin, role=None, after_id=None, first=50)
    assert after.total == before_users
    agent = await demo.services.reads.user(demo.admin, demo.agent.user_id or 0)
    assert (agent.role, agent.active, agent.token_version) == (Role.AGENT, True, 1)
    assert [(c.id, c.is_default, c.deleted_at) for c in await demo.services.reads.categories()] == [
        (c.id, c.is_default, c.deleted_at) for c in before_categories
    ]
    assert len(await demo.services.reads.priority_rules(demo.admin)) == len(before_rules)
    assert (await demo.services.reads.team(demo.desk)).external is False


async def test_create_user_refuses_duplicates_and_bad_fields(demo: Demo) -> None:
    admin = demo.services.admin
    create = admin.create_user
    with raises_domain(ErrorCode.CONFLICT, "email"):
        await create(
            demo.admin, email=" AGENT@example.com ", name="Copy", role=Role.AGENT, password=PASSWORD
        )
    with raises_domain(ErrorCode.CONFLICT, "username"):
        await create(
            demo.admin,
            email="someone@elsewhere.org",
            name="Copy",
            role=Role.AGENT,
            password=PASSWORD,
            username="agent",
        )
    with raises_domain(ErrorCode.VALIDATION, "email"):
        await create(demo.admin, email="not-an-email", name="X", role=Role.AGENT, password=PASSWORD)
    with raises_domain(ErrorCode.VALIDATION, "password"):
        await create(
            demo.admin, email="pw@example.com", name="P", role=Role.AGENT, password="short"
        )
    with raises_domain(ErrorCode.VALIDATION, "name"):
        await create(
            demo.admin, email="nn@example.com", name=" ", role=Role.AGENT, password=PASSWORD
        )

    user = await create(
        demo.admin,
        email="Agent@Elsewhere.org",
        name="Other Alex",
        role=Role.AGENT,
        password=PASSWORD,
        username="alex2",
    )
    assert (user.email, user.username, user.active) == ("agent@elsewhere.org", "alex2", True)
    pair = await demo.services.auth.login("agent@elsewhere.org", PASSWORD)
    assert pair.user.id == user.id


async def test_derived_usernames_are_valid_and_unique(demo: Demo) -> None:
    create = demo.services.admin.create_user
    first = await create(
        demo.admin, email="agent@partner.org", name="A", role=Role.AGENT, password=PASSWORD
    )
    second = await create(
        demo.admin, email="agent@third.org", name="B", role=Role.AGENT, password=PASSWORD
    )
    odd = await create(
        demo.admin, email="o'neil@x.com", name="C", role=Role.REQUESTER, password=PASSWORD
    )
    assert (first.username, second.username, odd.username) == ("agent2", "agent3", "oneil")


async def test_admin_cannot_demote_or_deactivate_themself(demo: Demo) -> None:
    admin = demo.services.admin
    me = demo.admin.user_id or 0
    with raises_domain(ErrorCode.VALIDATION, "role"):
        await admin.update_user(demo.admin, me, role=Role.AGENT)
    with raises_domain(ErrorCode.VALIDATION, "active"):
        await admin.update_user(demo.admin, me, active=False)
    with raises_domain(ErrorCode.NOT_FOUND, "userId"):
        await admin.update_user(demo.admin, 987_654, name="Ghost")
    stored = await demo.services.reads.user(demo.admin, me)
    assert (stored.role, stored.active) == (Role.ADMIN, True)


async def test_memberships_are_for_staff_and_idempotent(demo: Demo) -> None:
    admin, reads = demo.services.admin, demo.services.reads
    with raises_domain(ErrorCode.VALIDATION, "userId"):
        await admin.set_membership(
            demo.admin, team_id=demo.desk, user_id=demo.rita.user_id or 0, member=True
        )
    agent_id = demo.agent.user_id or 0
    await admin.set_membership(demo.admin, team_id=demo.desk, user_id=agent_id, member=True)
    assert (await reads.team_members([demo.desk]))[demo.desk].count(agent_id) == 1
    await admin.set_membership(demo.admin, team_id=demo.desk, user_id=agent_id, member=False)
    assert agent_id not in (await reads.team_members([demo.desk]))[demo.desk]
    await admin.set_membership(demo.admin, team_id=demo.desk, user_id=agent_id, member=False)


async def test_team_names_are_unique(demo: Demo) -> None:
    admin = demo.services.admin
    with raises_domain(ErrorCode.CONFLICT, "name"):
        await admin.create_team(demo.admin, name="Service Desk")
    with raises_domain(ErrorCode.VALIDATION, "tier"):
        await admin.create_team(demo.admin, name="Tier Four", tier=4)
    team = await admin.create_team(demo.admin, name="Field Service", tier=2)
    with raises_domain(ErrorCode.CONFLICT, "name"):
        await admin.update_team(demo.admin, team.id, name="Senior Support")
    assert (await demo.services.reads.team(team.id)).name == "Field Service"


async def _defaults(demo: Demo) -> list[str]:
    return [c.name for c in await demo.services.reads.categories() if c.is_default]


async def test_only_one_default_category(demo: Demo) -> None:
    admin, tickets = demo.services.admin, demo.services.tickets
    assert await _defaults(demo) == ["General"]

    facilities = await admin.save_category(
        demo.admin, name="Facilities", team_id=demo.teams["Senior Support"], is_default=True
    )
    assert await _defaults(demo) == ["Facilities"]
    ticket = await tickets.create(demo.rita, title="Door stuck", description="Room 4.")
    assert (ticket.category_id, ticket.team_id) == (facilities.id, demo.teams["Senior Support"])

    await admin.save_category(demo.admin, category_id=demo.categories["Hardware"], is_default=True)
    assert await _defaults(demo) == ["Hardware"]

    # Deleting the default leaves none: tickets without a category then have no team.
    await admin.delete_category(demo.admin, demo.categories["Hardware"])
    assert await _defaults(demo) == []
    assert "Hardware" not in {c.name for c in await demo.services.reads.categories()}
    orphan = await tickets.create(demo.rita, title="Lost", description="No category.")
    assert (orphan.category_id, orphan.team_id, orphan.priority) == (None, None, Priority.P3)


async def test_category_default_priority_and_urgency_fallbacks(demo: Demo) -> None:
    admin, tickets = demo.services.admin, demo.services.tickets
    labs = await admin.save_category(
        demo.admin, name="Lab devices", team_id=demo.desk, default_priority=Priority.P2
    )
    by_category = await tickets.create(
        demo.rita, title="Centrifuge", description="Noisy.", category_id=labs.id
    )
    assert by_category.priority is Priority.P2
    # The category default wins over the requester's suggestion.
    suggested = await tickets.create(
        demo.rita,
        title="Centrifuge 2",
        description="Noisy.",
        category_id=labs.id,
        urgency=Urgency.LOW,
    )
    assert suggested.priority is Priority.P2
    await admin.save_category(demo.admin, category_id=labs.id, clear_default_priority=True)
    by_urgency = await tickets.create(
        demo.rita,
        title="Centrifuge 3",
        description="Noisy.",
        category_id=labs.id,
        urgency=Urgency.LOW,
    )
    assert by_urgency.priority is Priority.P4
    plain = await tickets.create(
        demo.rita, title="Centrifuge 4", description="Noisy.", category_id=labs.id
    )
    assert plain.priority is Priority.P3


async def test_priority_rule_order_decides(demo: Demo) -> None:
    admin, tickets = demo.services.admin, demo.services.tickets

    async def priority_of(title: str) -> Priority:
        ticket = await tickets.create(demo.rita, title=title, description="See title.")
        return ticket.priority

    # The demo's keyword rule (position 20): "down" makes it P1.
    assert await priority_of("Printer down") is Priority.P1
    assert await priority_of("Printer slow") is Priority.P3
    # Whole words only: "download" is not "down".
    assert await priority_of("Slow download") is Priority.P3

    printers = await admin.save_priority_rule(
        demo.admin, name="Printers are low", position=5, priority=Priority.P4, keywords=["Printer"]
    )
    assert printers.keywords == "printer"
    assert await priority_of("Printer down") is Priority.P4  # position 5 beats 20
    assert await priority_of("Server down") is Priority.P1

    await admin.save_priority_rule(demo.admin, rule_id=printers.id, position=30)
    assert await priority_of("Printer down") is Priority.P1
    assert await priority_of("Printer jam") is Priority.P4

    await admin.delete_priority_rule(demo.admin, printers.id)
    assert await priority_of("Printer jam") is Priority.P3
    with raises_domain(ErrorCode.NOT_FOUND, "ruleId"):
        await admin.save_priority_rule(demo.admin, rule_id=printers.id, position=1)

    created = await tickets.create(demo.rita, title="Network down", description="All of it.")
    first_event = (await demo.events(created.id))[0]
    assert first_event.data["prioritySource"] == "rule"
    assert first_event.data["priorityRuleId"] is not None


async def test_priority_rule_needs_a_condition_and_a_priority(demo: Demo) -> None:
    admin = demo.services.admin
    rules_before = len(await demo.services.reads.priority_rules(demo.admin))
    with raises_domain(ErrorCode.VALIDATION, "keywords"):
        await admin.save_priority_rule(demo.admin, name="Everything", priority=Priority.P1)
    with raises_domain(ErrorCode.VALIDATION, "keywords"):
        await admin.save_priority_rule(
            demo.admin, name="Blank", priority=Priority.P1, keywords=[" ", ""]
        )
    with raises_domain(ErrorCode.VALIDATION, "priority"):
        await admin.save_priority_rule(demo.admin, name="No priority", keywords=["x"])
    with raises_domain(ErrorCode.NOT_FOUND, "categoryId"):
        await admin.save_priority_rule(
            demo.admin, name="Ghost", priority=Priority.P1, category_id=987_654
        )
    assert len(await demo.services.reads.priority_rules(demo.admin)) == rules_before
