"""In-app notifications: stored, then pushed live to the recipient's subscriptions.

An in-app notification is delivered when its row is written (the row is the inbox entry;
`sets.services.outbox` writes in-app rows as SENT). The unit of work's after-commit dispatcher
(`sets.services.notifications_queue.Dispatcher`) calls `publish_in_app` for every in-app row
it committed, so the push never precedes the commit and a rollback pushes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sets.domain import validation
from sets.domain.errors import NotFound
from sets.models import Notification
from sets.realtime import notifications_topic
from sets.realtime.bus import EventBus
from sets.repositories.notifications import IN_APP
from sets.services.uow import UnitOfWork

SUBJECT_MAX = 255


async def publish_in_app(bus: EventBus, rows: Iterable[Notification]) -> None:
    """Call after the commit that stored (or marked delivered) these rows, never before."""
    for row in rows:
        if row.channel == IN_APP:
            await bus.publish(
                notifications_topic(row.recipient_id),
                {"id": row.id, "recipient_id": row.recipient_id},
            )


class InAppNotifications:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    async def send(
        self,
        recipient_id: int,
        *,
        event: str,
        subject: str,
        body: str,
        ticket_id: int | None = None,
        event_id: int | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> Notification:
        """Store an in-app notification (delivered: the row is the inbox); the unit of work
        pushes it live once committed. A system action: callers decide who is notified."""
        subject = validation.text(subject, field="subject", max_len=SUBJECT_MAX)
        body = validation.text(body, field="body", max_len=validation.COMMENT_MAX)
        async with self._uow() as uow:
            recipient = await uow.users.get(recipient_id)
            if recipient is None or not recipient.active:
                raise NotFound("no such active user", field="recipientId")
            now = uow.clock.now()
            row = Notification(
                recipient_id=recipient_id,
                channel=IN_APP,
                event=event,
                ticket_id=ticket_id,
                event_id=event_id,
                subject=subject,
                body=body,
                payload=payload or {},
                status="SENT",
                attempts=1,
                dedupe_key=dedupe_key or f"in-app:{uuid.uuid4()}",
                created_at=now,
                sent_at=now,
            )
            uow.add_notifications([row])
            await uow.session.flush()
            await uow.commit()
        return row
