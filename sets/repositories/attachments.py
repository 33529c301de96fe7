"""Queries for attachments; never commit."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sets.models import Attachment, Comment


class AttachmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, attachment_id: int) -> Attachment | None:
        return await self.session.get(Attachment, attachment_id)

    async def for_tickets(
        self, ticket_ids: Sequence[int], *, include_internal: bool
    ) -> dict[int, list[Attachment]]:
        """Every attachment of each ticket (on the ticket itself or on its comments)."""
        found: dict[int, list[Attachment]] = {tid: [] for tid in ticket_ids}
        if not ticket_ids:
            return found
        stmt = select(Attachment).where(Attachment.ticket_id.in_(set(ticket_ids)))
        if not include_internal:
            stmt = stmt.where(Attachment.internal.is_(False))
        for row in await self.session.scalars(stmt.order_by(Attachment.ticket_id, Attachment.id)):
            found[row.ticket_id].append(row)
        return found

    async def for_comments(
        self, comment_ids: Sequence[int], *, include_internal: bool
    ) -> dict[int, list[Attachment]]:
        found: dict[int, list[Attachment]] = {cid: [] for cid in comment_ids}
        if not comment_ids:
            return found
        stmt = select(Attachment).where(Attachment.comment_id.in_(set(comment_ids)))
        if not include_internal:
            stmt = stmt.where(Attachment.internal.is_(False))
        for row in await self.session.scalars(stmt.order_by(Attachment.id)):
            assert row.comment_id is not None
            found[row.comment_id].append(row)
        return found

    async def comments(self, comment_ids: Sequence[int]) -> dict[int, Comment]:
        if not comment_ids:
            return {}
        rows = await self.session.scalars(select(Comment).where(Comment.id.in_(set(comment_ids))))
        return {row.id: row for row in rows}

    async def referenced(self, digests: Collection[str]) -> set[str]:
        """Which of these sha256 digests some row names."""
        if not digests:
            return set()
        rows = await self.session.scalars(
            select(Attachment.sha256).where(Attachment.sha256.in_(set(digests))).distinct()
        )
        return set(rows)
