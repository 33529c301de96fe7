"""Notification rows as their recipients read them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sets.models import Notification

IN_APP = "IN_APP"
"""The channel of notifications shown (and pushed live) inside SETS itself."""


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_recipient(
        self,
        recipient_id: int,
        *,
        channel: str,
        after_id: int | None = None,
        ids: Sequence[int] | None = None,
        limit: int,
    ) -> list[Notification]:
        """One recipient's notifications on one channel, by ascending id."""
        clauses: list[ColumnElement[bool]] = [
            Notification.recipient_id == recipient_id,
            Notification.channel == channel,
        ]
        if after_id is not None:
            clauses.append(Notification.id > after_id)
        if ids is not None:
            clauses.append(Notification.id.in_(list(ids)))
        rows = await self.session.scalars(
            select(Notification).where(*clauses).order_by(Notification.id).limit(limit)
        )
        return list(rows)

    async def latest_id(self) -> int:
        return int(await self.session.scalar(select(func.max(Notification.id))) or 0)

    def add(self, row: Notification) -> None:
        self.session.add(row)
