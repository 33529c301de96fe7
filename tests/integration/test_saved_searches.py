"""Saved searches: personal views, team views curated by managers, soft deletion."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from sets.domain.actor import Actor
from sets.domain.errors import ErrorCode
from sets.domain.saved_searches import MAX_PER_USER
from sets.models import SavedSearch
from tests.integration.support import Demo, raises_domain

FILTER = {"statuses": ["NEW", "TODO"], "escalated": False}


async def save(demo: Demo, actor: Actor, name: str, **kw: Any) -> SavedSearch:
    return await demo.services.saved_searches.create(
        actor,
        name=name,
        search=kw.get("search"),
        filter=kw.get("filter", FILTER),
        order_field=kw.get("order_field"),
        order_direction=kw.get("order_direction"),
        team_id=kw.get("team_id"),
    )


async def names(demo: Demo, actor: Actor) -> list[str]:
    return [v.name for v in await demo.services.saved_searches.visible(actor)]


async def test_personal_views_are_private(demo: Demo) -> None:
    mine = await save(demo, demo.rita, "My open printer tickets", search="printer")
    await save(demo, demo.agent, "Agent view", order_field="PRIORITY", order_direction="ASC")
    assert await names(demo, demo.rita) == ["My open printer tickets"]
    assert await names(demo, demo.agent) == ["Agent view"]
    assert await names(demo, demo.admin) == []  # admins see shared views, not private ones
    stored = await demo.services.saved_searches.get(demo.rita, mine.id)
    assert (stored.filter, stored.search, stored.team_id) == (FILTER, "printer", None)
    for other in (demo.carl, demo.agent, demo.admin):
        with raises_domain(ErrorCode.NOT_FOUND, field="id"):
            await demo.services.saved_searches.get(other, mine.id)
        with raises_domain(ErrorCode.NOT_FOUND, field="id"):
            await demo.services.saved_searches.delete(other, mine.id)


async def test_team_views_are_shared_by_managers(demo: Demo) -> None:
    desk = demo.desk
    shared = await save(demo, demo.manager, "Desk: unassigned P1", team_id=desk)
    await save(demo, demo.admin, "Senior backlog", team_id=demo.teams["Senior Support"])
    await save(demo, demo.agent, "Agent private")
    # Personal views first, then shared ones, each by name.
    assert await names(demo, demo.agent) == ["Agent private", "Desk: unassigned P1"]
    assert await names(demo, demo.manager) == ["Desk: unassigned P1"]
    assert await names(demo, demo.senior) == ["Senior backlog"]
    assert await names(demo, demo.admin) == ["Desk: unassigned P1", "Senior backlog"]
    assert await names(demo, demo.rita) == []
    assert await names(demo, demo.vendor) == []
    # An agent of the team sees it but may not delete it; the team's managers and admins may.
    with raises_domain(ErrorCode.FORBIDDEN, field="id"):
        await demo.services.saved_searches.delete(demo.agent, shared.id)
    with raises_domain(ErrorCode.NOT_FOUND, field="id"):
        await demo.services.saved_searches.delete(demo.senior, shared.id)
    await demo.services.saved_searches.delete(demo.admin, shared.id)
    assert await names(demo, demo.agent) == ["Agent private"]


@pytest.mark.parametrize("who", ["agent", "rita", "senior"])
async def test_only_managers_of_the_team_or_admins_share(demo: Demo, who: str) -> None:
    with raises_domain(ErrorCode.FORBIDDEN, field="teamId"):
        await save(demo, getattr(demo, who), "Shared", team_id=demo.desk)
    assert await names(demo, demo.agent) == []


async def test_unknown_team(demo: Demo) -> None:
    with raises_domain(ErrorCode.NOT_FOUND, field="teamId"):
        await save(demo, demo.admin, "Nowhere", team_id=9999)


async def test_names_are_checked(demo: Demo) -> None:
    await save(demo, demo.rita, "Mine")
    with raises_domain(ErrorCode.CONFLICT, field="name"):
        await save(demo, demo.rita, "  Mine ")
    await save(demo, demo.carl, "Mine")  # another person's namespace
    await save(demo, demo.manager, "Mine", team_id=demo.desk)  # the team's namespace
    with raises_domain(ErrorCode.CONFLICT, field="name"):
        await save(demo, demo.admin, "Mine", team_id=demo.desk)
    with raises_domain(ErrorCode.VALIDATION, field="name"):
        await save(demo, demo.rita, "   ")
    with raises_domain(ErrorCode.VALIDATION, field="name"):
        await save(demo, demo.rita, "x" * 121)
    with raises_domain(ErrorCode.VALIDATION, field="search"):
        await save(demo, demo.rita, "Long", search="x" * 501)


async def test_deletion_is_soft_and_frees_the_name(demo: Demo) -> None:
    view = await save(demo, demo.rita, "Mine")
    deleted = await demo.services.saved_searches.delete(demo.rita, view.id)
    assert deleted.deleted_at is not None
    assert await names(demo, demo.rita) == []
    with raises_domain(ErrorCode.NOT_FOUND, field="id"):
        await demo.services.saved_searches.delete(demo.rita, view.id)
    async with demo.services.db.reader() as session:
        kept = await session.scalar(select(SavedSearch).where(SavedSearch.id == view.id))
    assert kept is not None and kept.deleted_at is not None
    await save(demo, demo.rita, "Mine")


async def test_at_most_so_many_per_user(demo: Demo) -> None:
    for n in range(MAX_PER_USER):
        await save(demo, demo.carl, f"View {n}")
    with raises_domain(ErrorCode.VALIDATION, field="name"):
        await save(demo, demo.carl, "One too many")
