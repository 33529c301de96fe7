"""Notifications as people use them: the in-app inbox, read marks, per-event channel
preferences and the admins' defaults, and the admins' view of deliveries."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sets.domain import permissions
from sets.domain.actor import Actor
from sets.domain.errors import NotFound, ValidationFailed
from sets.domain.notifications import Audience, Cell, Channel, NotifyEvent, check_setting, matrix
from sets.models import Notification, NotificationPreference
from sets.repositories.notifications import IN_APP, DeliveryFilter, NotificationRepository
from sets.services.notifications_queue import DeliveryJob, DeliveryQueue, QueueUnavailable
from sets.services.outbox import parse_setting
from sets.services.uow import UnitOfWork

MAX_CHANGES = 100


@dataclass(frozen=True)
class Inbox:
    items: list[Notification]
    has_next: bool
    total: int
    unread: int


@dataclass(frozen=True)
class Change:
    event: NotifyEvent
    channel: Channel
    enabled: bool


@dataclass(frozen=True)
class DeliveryPage:
    items: list[Notification]
    has_next: bool
    total: int


def _me(actor: Actor) -> int:
    if actor.user_id is None:
        raise ValidationFailed("the system has no notifications")
    return actor.user_id


class NotificationService:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        reader: async_sessionmaker[AsyncSession],
        queue: Callable[[], DeliveryQueue],
    ) -> None:
        self._uow = uow_factory
        self._reader = reader
        self._queue = queue

    # -- the inbox --------------------------------------------------------------------------

    async def inbox(
        self, actor: Actor, *, first: int, before_id: int | None, unread_only: bool
    ) -> Inbox:
        """The caller's in-app notifications, newest first."""
        me = _me(actor)
        async with self._reader() as session:
            repo = NotificationRepository(session)
            rows = await repo.inbox(
                me, unread_only=unread_only, before_id=before_id, limit=first + 1
            )
            total = await repo.count_inbox(me, unread_only=unread_only)
            unread = total if unread_only else await repo.count_inbox(me, unread_only=True)
        return Inbox(rows[:first], len(rows) > first, total, unread)

    async def get(self, actor: Actor, notification_id: int) -> Notification:
        """One of the caller's own in-app notifications; nobody reads another's."""
        async with self._reader() as session:
            row = await NotificationRepository(session).get(notification_id)
        if row is None or row.recipient_id != actor.user_id or row.channel != IN_APP:
            raise NotFound("notification not found", field="id")
        return row

    async def own(self, actor: Actor, ids: Sequence[int]) -> list[Notification]:
        """Those of `ids` that are the caller's in-app notifications."""
        if not ids:
            return []
        async with self._reader() as session:
            return await NotificationRepository(session).for_recipient(
                _me(actor), channel=IN_APP, ids=ids, limit=len(ids)
            )

    async def mark_read(self, actor: Actor, ids: Sequence[int] | None) -> int:
        """Mark some (or, with `ids` None, all) of the caller's in-app notifications read;
        how many changed. Ids that are not the caller's are refused as not found (and nothing
        is marked); already-read ones are fine."""
        me = _me(actor)
        if ids is not None and len(ids) > MAX_CHANGES:
            raise ValidationFailed(f"at most {MAX_CHANGES} ids at once", field="ids")
        async with self._uow() as uow:
            repo = uow.notifications
            if ids:
                mine = await repo.for_recipient(me, channel=IN_APP, ids=ids, limit=len(ids))
                if len(mine) != len(set(ids)):
                    raise NotFound("notification not found", field="ids")
            changed = await repo.mark_read(me, ids, uow.clock.now())
            await uow.commit()
        return changed

    async def unread_count(self, actor: Actor) -> int:
        async with self._reader() as session:
            return await NotificationRepository(session).count_inbox(_me(actor), unread_only=True)

    # -- preferences ------------------------------------------------------------------------

    async def preferences(self, actor: Actor) -> list[Cell]:
        """The caller's effective choice for every event and channel open to them."""
        me = _me(actor)
        audience = Audience.of(actor.role)
        async with self._reader() as session:
            repo = NotificationRepository(session)
            defaults = (await repo.defaults()).get(audience.value, {})
            own = (await repo.preferences([me]))[me]
        return matrix(audience, defaults=parse_setting(defaults), own=parse_setting(own))

    async def update_preferences(
        self, actor: Actor, changes: Sequence[Change], *, reset: bool = False
    ) -> list[Cell]:
        """Set the caller's own choices; `reset` first forgets every earlier choice."""
        me = _me(actor)
        audience = Audience.of(actor.role)
        _check(audience, changes)
        async with self._uow() as uow:
            if reset:
                await uow.session.execute(
                    delete(NotificationPreference).where(NotificationPreference.user_id == me)
                )
            now = uow.clock.now()
            for change in changes:
                await uow.notifications.set_preference(
                    me, change.event.value, change.channel.value, change.enabled, now
                )
            await uow.commit()
        return await self.preferences(actor)

    async def defaults(self, actor: Actor, audience: Audience) -> list[Cell]:
        permissions.ensure_admin(actor)
        async with self._reader() as session:
            stored = (await NotificationRepository(session).defaults()).get(audience.value, {})
        return matrix(audience, defaults=parse_setting(stored))

    async def update_defaults(
        self, actor: Actor, audience: Audience, changes: Sequence[Change]
    ) -> list[Cell]:
        """Admins: what people who made no choice of their own get."""
        permissions.ensure_admin(actor)
        _check(audience, changes)
        async with self._uow() as uow:
            now = uow.clock.now()
            for change in changes:
                await uow.notifications.set_default(
                    audience.value,
                    change.event.value,
                    change.channel.value,
                    change.enabled,
                    now,
                    actor.user_id,
                )
            await uow.commit()
        return await self.defaults(actor, audience)

    # -- deliveries (admins) ----------------------------------------------------------------

    async def deliveries(
        self, actor: Actor, query: DeliveryFilter, *, first: int, before_id: int | None
    ) -> DeliveryPage:
        """Every notification on every channel, newest first, with its delivery state."""
        permissions.ensure_admin(actor)
        async with self._reader() as session:
            repo = NotificationRepository(session)
            rows = await repo.deliveries(query, before_id=before_id, limit=first + 1)
            total = await repo.count_deliveries(query)
        return DeliveryPage(rows[:first], len(rows) > first, total)

    async def retry(self, actor: Actor, notification_id: int) -> Notification:
        """Admins: give a FAILED notification a fresh set of attempts, now."""
        permissions.ensure_admin(actor)
        async with self._uow() as uow:
            if not await uow.notifications.retry_failed(notification_id):
                row = await uow.notifications.get(notification_id)
                if row is None:
                    raise NotFound("notification not found", field="id")
                raise ValidationFailed(
                    f"only FAILED notifications are retried, not {row.status}", field="id"
                )
            await uow.commit()
        async with self._reader() as session:
            row = await NotificationRepository(session).get(notification_id)
        assert row is not None
        # Without the queue, the rescue job picks it up within a couple of minutes.
        with contextlib.suppress(QueueUnavailable):
            await self._queue().enqueue(DeliveryJob(row.id, row.attempts))
        return row


def _check(audience: Audience, changes: Sequence[Change]) -> None:
    if len(changes) > MAX_CHANGES:
        raise ValidationFailed(f"at most {MAX_CHANGES} changes at once", field="preferences")
    for change in changes:
        check_setting(audience, change.event, change.channel, field="preferences")
