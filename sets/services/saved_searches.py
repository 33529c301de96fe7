"""Saved searches (SPEC §9): personal views, and team views curated by the team's managers.

The filter is stored as the API received it (global ids, enum names, ISO instants): the
schema layer encodes and decodes it, so a stored view is replayed exactly like a request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain import saved_searches as policy
from sets.domain import validation
from sets.domain.actor import Actor
from sets.domain.errors import Conflict, NotFound, ValidationFailed
from sets.models import SavedSearch
from sets.repositories.saved_searches import SavedSearchRepository
from sets.services.uow import UnitOfWork


class SavedSearchService:
    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self._uow = uow_factory
        self._sessions = sessions

    async def visible(self, actor: Actor) -> list[SavedSearch]:
        """One's own views and those shared with one's teams (admins: every shared view)."""
        if actor.user_id is None:
            return []
        teams = None if actor.is_admin else (actor.team_ids if actor.is_staff else frozenset())
        async with self._sessions() as session:
            return await SavedSearchRepository(session).visible(
                owner_id=actor.user_id, team_ids=teams
            )

    async def get(self, actor: Actor, search_id: int) -> SavedSearch:
        async with self._sessions() as session:
            found = await SavedSearchRepository(session).get(search_id)
        if found is None or not policy.can_see(
            actor, owner_id=found.owner_id, team_id=found.team_id
        ):
            raise NotFound("saved search not found", field="id")
        return found

    async def create(
        self,
        actor: Actor,
        *,
        name: str,
        search: str | None,
        filter: dict[str, Any],
        order_field: str | None,
        order_direction: str | None,
        team_id: int | None,
    ) -> SavedSearch:
        name = validation.text(name, field="name", max_len=policy.NAME_MAX)
        search = validation.optional_text(search, field="search", max_len=policy.SEARCH_MAX)
        if actor.user_id is None:
            raise ValidationFailed("saved searches belong to people", field="name")
        if team_id is not None:
            policy.ensure_can_share(actor, team_id)
        async with self._uow() as uow:
            views = SavedSearchRepository(uow.session)
            if team_id is not None and await uow.teams.get(team_id) is None:
                raise NotFound("team not found", field="teamId")
            if await views.count_owned(actor.user_id) >= policy.MAX_PER_USER:
                raise ValidationFailed(
                    f"you have {policy.MAX_PER_USER} saved searches; delete one first",
                    field="name",
                )
            if await views.name_taken(name, owner_id=actor.user_id, team_id=team_id):
                where = "this team" if team_id is not None else "your saved searches"
                raise Conflict(f"{where} already has a view named {name!r}", field="name")
            row = SavedSearch(
                owner_id=actor.user_id,
                team_id=team_id,
                name=name,
                search=search,
                filter=filter,
                order_field=order_field,
                order_direction=order_direction,
                created_at=uow.clock.now(),
            )
            views.add(row)
            await uow.commit()
            return row

    async def delete(self, actor: Actor, search_id: int) -> SavedSearch:
        """Soft delete: the row stays, with `deleted_at` set."""
        async with self._uow() as uow:
            row = await SavedSearchRepository(uow.session).get(search_id)
            if row is None:
                raise NotFound("saved search not found", field="id")
            policy.ensure_can_delete(actor, owner_id=row.owner_id, team_id=row.team_id)
            row.deleted_at = uow.clock.now()
            await uow.commit()
            return row
