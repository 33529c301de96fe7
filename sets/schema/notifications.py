"""Notifications as their recipient sees them (SPEC §7, §10)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from sets.models import Notification as NotificationRow
from sets.schema.context import Info
from sets.schema.ids import to_global_id
from sets.schema.types import Node, Ticket


@strawberry.enum(description="Where a notification is delivered.")
class NotificationChannel(Enum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SLACK = "SLACK"
    SMS = "SMS"


@strawberry.enum(description="Delivery state of a notification.")
class NotificationStatus(Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


@strawberry.type(description="A message to one person about something that happened.")
class Notification(Node):
    id: strawberry.ID
    pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int | None]
    channel: NotificationChannel
    event: str
    subject: str
    body: str
    status: NotificationStatus
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None

    @classmethod
    def from_row(cls, row: NotificationRow) -> Notification:
        return cls(
            id=strawberry.ID(to_global_id("Notification", row.id)),
            pk=row.id,
            ticket_pk=row.ticket_id,
            channel=NotificationChannel(row.channel),
            event=row.event,
            subject=row.subject,
            body=row.body,
            status=NotificationStatus(row.status),
            attempts=row.attempts,
            created_at=row.created_at,
            sent_at=row.sent_at,
            read_at=row.read_at,
        )

    @strawberry.field(description="The ticket it is about, when the recipient may still see it.")
    async def ticket(self, info: Info) -> Ticket | None:
        if self.ticket_pk is None:
            return None
        row = await info.context.loaders.tickets.load(self.ticket_pk)
        return Ticket.from_row(row) if row else None
