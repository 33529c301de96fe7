from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sets.models import SavedSearch


class SavedSearchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def visible(
        self, *, owner_id: int | None, team_ids: Collection[int] | None
    ) -> list[SavedSearch]:
        """Live views owned by `owner_id` or shared with one of `team_ids` (None: any team),
        personal ones first, then by name."""
        shared = (
            SavedSearch.team_id.is_not(None)
            if team_ids is None
            else SavedSearch.team_id.in_(list(team_ids))
        )
        rows = await self.session.scalars(
            select(SavedSearch)
            .where(SavedSearch.deleted_at.is_(None), or_(SavedSearch.owner_id == owner_id, shared))
            .order_by(SavedSearch.team_id.is_not(None), SavedSearch.name, SavedSearch.id)
        )
        return list(rows)

    async def get(self, search_id: int) -> SavedSearch | None:
        found = await self.session.get(SavedSearch, search_id)
        return found if found is not None and found.deleted_at is None else None

    async def count_owned(self, owner_id: int) -> int:
        stmt = select(func.count()).where(
            SavedSearch.owner_id == owner_id, SavedSearch.deleted_at.is_(None)
        )
        return int(await self.session.scalar(stmt) or 0)

    async def name_taken(self, name: str, *, owner_id: int, team_id: int | None) -> bool:
        """Names are unique among one's personal views, and among one team's shared views
        (compared exactly: SQLite's lower() folds ASCII only, so no case folding)."""
        scope = (
            (SavedSearch.owner_id == owner_id) & SavedSearch.team_id.is_(None)
            if team_id is None
            else SavedSearch.team_id == team_id
        )
        stmt = select(func.count()).where(
            scope, SavedSearch.deleted_at.is_(None), SavedSearch.name == name
        )
        return bool(await self.session.scalar(stmt))

    def add(self, row: SavedSearch) -> None:
        self.session.add(row)
