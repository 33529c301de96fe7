from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sets.domain.enums import Priority
from sets.models import Category, EscalationPolicy, PriorityRule, SlaPolicy
from sets.repositories.statements import by_ids


class CatalogRepository:
    """Categories, priority rules and SLA policies: small admin-managed tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def category(self, category_id: int, *, include_deleted: bool = False) -> Category | None:
        found = await self.session.get(Category, category_id)
        if found is None or (found.deleted_at is not None and not include_deleted):
            return None
        return found

    async def categories_by_id(self, ids: Sequence[int]) -> dict[int, Category]:
        if not ids:
            return {}
        rows = await self.session.scalars(by_ids(Category), {"ids": sorted(set(ids))})
        return {c.id: c for c in rows}

    async def categories(self) -> list[Category]:
        rows = await self.session.scalars(
            select(Category).where(Category.deleted_at.is_(None)).order_by(Category.name)
        )
        return list(rows)

    async def default_category(self) -> Category | None:
        return await self.session.scalar(
            select(Category).where(Category.is_default.is_(True), Category.deleted_at.is_(None))
        )

    async def priority_rules(self) -> list[PriorityRule]:
        rows = await self.session.scalars(
            select(PriorityRule)
            .where(PriorityRule.deleted_at.is_(None))
            .order_by(PriorityRule.position, PriorityRule.id)
        )
        return list(rows)

    async def priority_rule(self, rule_id: int) -> PriorityRule | None:
        found = await self.session.get(PriorityRule, rule_id)
        return found if found is not None and found.deleted_at is None else None

    async def sla_policy(self, priority: Priority) -> SlaPolicy | None:
        return await self.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == priority))

    async def sla_policies(self) -> list[SlaPolicy]:
        return list(await self.session.scalars(select(SlaPolicy).order_by(SlaPolicy.priority)))

    async def escalation_policies(self) -> list[EscalationPolicy]:
        return list(
            await self.session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.level))
        )

    async def escalation_policy(self, level: int) -> EscalationPolicy | None:
        return await self.session.scalar(
            select(EscalationPolicy).where(EscalationPolicy.level == level)
        )

    def add(self, obj: Category | PriorityRule | SlaPolicy | EscalationPolicy) -> None:
        self.session.add(obj)
