"""Outbox rows written in the same transaction as the event that causes them; delivery is a
separate job, so a rolled-back change never notifies and a committed one is never lost."""

from __future__ import annotations

from collections.abc import Iterable

from sets.domain.tickets import ticket_key
from sets.models import Notification, Ticket, TicketEvent
from sets.services.uow import UnitOfWork

DEFAULT_CHANNELS = ("IN_APP", "EMAIL")


async def notify(
    uow: UnitOfWork,
    ticket: Ticket,
    event: TicketEvent,
    recipients: Iterable[int | None],
    *,
    subject: str,
    body: str,
    channels: Iterable[str] = DEFAULT_CHANNELS,
) -> list[Notification]:
    """One row per recipient and channel; the dedupe key makes a replay write nothing new."""
    wanted = sorted({r for r in recipients if r is not None})
    if not wanted:
        return []
    if event.id is None:
        await uow.session.flush()  # the event id is part of the dedupe key
    now = uow.clock.now()
    rows = [
        Notification(
            recipient_id=recipient,
            channel=channel,
            event=event.kind,
            ticket_id=ticket.id,
            event_id=event.id,
            subject=f"[{ticket_key(ticket.id)}] {subject}",
            body=body,
            payload={"ticketId": ticket.id, "eventId": event.id, "kind": event.kind},
            status="PENDING",
            attempts=0,
            dedupe_key=f"{event.id}:{recipient}:{channel}",
            created_at=now,
        )
        for recipient in wanted
        for channel in channels
    ]
    uow.session.add_all(rows)
    return rows
