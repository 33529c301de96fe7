"""Helpers for the notification tests: the rows written since a point."""

from __future__ import annotations

from sqlalchemy import func, select

from sets.models import Notification
from sets.services.container import Services

Row = tuple[int, str, str]  # recipient, event, channel


async def last_id(services: Services) -> int:
    async with services.db.reader() as session:
        return int(await session.scalar(select(func.max(Notification.id))) or 0)


async def rows_since(services: Services, since: int) -> list[Notification]:
    async with services.db.reader() as session:
        found = await session.scalars(
            select(Notification).where(Notification.id > since).order_by(Notification.id)
        )
        return list(found)


async def who_since(services: Services, since: int) -> set[Row]:
    return {(r.recipient_id, r.event, r.channel) for r in await rows_since(services, since)}


async def row(services: Services, notification_id: int) -> Notification:
    async with services.db.reader() as session:
        found = await session.get(Notification, notification_id)
    assert found is not None
    return found
