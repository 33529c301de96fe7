"""Notifications (SPEC §7, §10): the caller's in-app inbox and read marks, per-event channel
preferences and the admins' defaults, and the admins' view of every delivery."""

from __future__ import annotations

from datetime import datetime

import strawberry

from sets.domain.errors import DomainError, ValidationFailed
from sets.domain.notifications import Audience, Cell, Channel, DeliveryStatus, NotifyEvent, Source
from sets.models import Notification as NotificationRow
from sets.repositories.notifications import DeliveryFilter
from sets.schema.context import Info
from sets.schema.errors import UserError, coded_error
from sets.schema.ids import decode_cursor, encode_cursor, from_global_id, ticket_pk, to_global_id
from sets.schema.pagination import page_size
from sets.schema.tickets import attempt
from sets.schema.types import Node, PageInfo, Ticket, User
from sets.services.notifications import Change

NotificationChannel = strawberry.enum(
    Channel, name="NotificationChannel", description="Where a notification is delivered."
)
NotificationStatus = strawberry.enum(
    DeliveryStatus, name="NotificationStatus", description="Delivery state of a notification."
)
NotificationEvent = strawberry.enum(
    NotifyEvent,
    name="NotificationEvent",
    description="What a notification is about: the unit of preferences.",
)
NotificationAudience = strawberry.enum(
    Audience,
    name="NotificationAudience",
    description="Whose defaults: requesters (customers) or staff.",
)
PreferenceSource = strawberry.enum(
    Source,
    name="NotificationPreferenceSource",
    description="USER: the person's own choice; DEFAULT: the admins' default; BUILT_IN: "
    "SETS's own default.",
)


@strawberry.type(description="A message to one person about something that happened.")
class Notification(Node):
    id: strawberry.ID
    pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int | None]
    channel: Channel
    event: str
    subject: str
    body: str
    status: DeliveryStatus
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
            channel=Channel(row.channel),
            event=row.event,
            subject=row.subject,
            body=row.body,
            status=DeliveryStatus(row.status),
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


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="All (or all unread, with unreadOnly).")
    unread_count: int = strawberry.field(description="The caller's unread in-app notifications.")

    @strawberry.field
    def nodes(self) -> list[Notification]:
        return [e.node for e in self.edges]


@strawberry.type(description="Whether one event reaches the caller on one channel.")
class NotificationPreference:
    event: NotifyEvent
    channel: Channel
    enabled: bool
    source: Source

    @classmethod
    def from_cell(cls, cell: Cell) -> NotificationPreference:
        return cls(event=cell.event, channel=cell.channel, enabled=cell.enabled, source=cell.source)


@strawberry.type(description="Admins: one notification with its delivery state.")
class NotificationDelivery:
    id: strawberry.ID
    row: strawberry.Private[NotificationRow]
    channel: Channel
    event: str
    subject: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None = strawberry.field(
        description="When a failed attempt will be retried."
    )

    @classmethod
    def from_row(cls, row: NotificationRow) -> NotificationDelivery:
        return cls(
            id=strawberry.ID(to_global_id("Notification", row.id)),
            row=row,
            channel=Channel(row.channel),
            event=row.event,
            subject=row.subject,
            status=DeliveryStatus(row.status),
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at,
        )

    @strawberry.field(description="Where it went: an SMTP server, a webhook, or a file.")
    def target(self) -> str | None:
        delivery = self.row.payload.get("delivery")
        return str(delivery["target"]) if isinstance(delivery, dict) else None

    @strawberry.field(description="Recorded instead of sent (no SMTP server or webhook set).")
    def simulated(self) -> bool | None:
        delivery = self.row.payload.get("delivery")
        return bool(delivery["simulated"]) if isinstance(delivery, dict) else None

    @strawberry.field
    async def recipient(self, info: Info) -> User | None:
        row = await info.context.loaders.users.load(self.row.recipient_id)
        return User.from_row(row) if row else None

    @strawberry.field
    async def ticket(self, info: Info) -> Ticket | None:
        if self.row.ticket_id is None:
            return None
        row = await info.context.loaders.tickets.load(self.row.ticket_id)
        return Ticket.from_row(row) if row else None


@strawberry.type
class NotificationDeliveryEdge:
    cursor: str
    node: NotificationDelivery


@strawberry.type
class NotificationDeliveryConnection:
    edges: list[NotificationDeliveryEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[NotificationDelivery]:
        return [e.node for e in self.edges]


@strawberry.input(description="All given conditions must hold; lists match any of their values.")
class NotificationDeliveryFilter:
    statuses: list[DeliveryStatus] | None = None
    channels: list[Channel] | None = None
    recipient_id: strawberry.ID | None = None
    ticket_id: strawberry.ID | None = None


def _cursor(pk: int) -> str:
    return encode_cursor({"n": pk})


def _before(cursor: str | None) -> int | None:
    """Pages run newest first: the next page holds the ids below the cursor's."""
    if cursor is None:
        return None
    payload = decode_cursor(cursor)
    value = payload.get("n") if isinstance(payload, dict) else None
    if not isinstance(value, int):
        raise ValidationFailed("not a notification cursor", field="after")
    return value


def _page_info(cursors: list[str], has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


@strawberry.type
class NotificationQueries:
    @strawberry.field(description="The caller's in-app notifications, newest first.")
    async def notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        unread_only: bool | None = None,
    ) -> NotificationConnection:
        actor = await info.context.actor()
        try:
            inbox = await info.context.services.notifications.inbox(
                actor,
                first=page_size(first),
                before_id=_before(after),
                unread_only=bool(unread_only),
            )
        except DomainError as exc:
            raise coded_error(exc) from exc
        edges = [
            NotificationEdge(cursor=_cursor(r.id), node=Notification.from_row(r))
            for r in inbox.items
        ]
        return NotificationConnection(
            edges=edges,
            page_info=_page_info([e.cursor for e in edges], inbox.has_next, after),
            total_count=inbox.total,
            unread_count=inbox.unread,
        )

    @strawberry.field(
        description="The caller's effective choice for every event and channel open to them."
    )
    async def notification_preferences(self, info: Info) -> list[NotificationPreference]:
        actor = await info.context.actor()
        try:
            cells = await info.context.services.notifications.preferences(actor)
        except DomainError as exc:
            raise coded_error(exc) from exc
        return [NotificationPreference.from_cell(c) for c in cells]

    @strawberry.field(description="Admins: the defaults for people who made no choice.")
    async def notification_defaults(
        self, info: Info, audience: Audience
    ) -> list[NotificationPreference]:
        actor = await info.context.actor()
        try:
            cells = await info.context.services.notifications.defaults(actor, audience)
        except DomainError as exc:
            raise coded_error(exc) from exc
        return [NotificationPreference.from_cell(c) for c in cells]

    @strawberry.field(
        description="Admins: every notification on every channel, newest first, with its "
        "delivery status, attempts and last error."
    )
    async def notification_deliveries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: NotificationDeliveryFilter | None = None,
    ) -> NotificationDeliveryConnection:
        actor = await info.context.actor()
        f = filter or NotificationDeliveryFilter()
        try:
            query = DeliveryFilter(
                statuses=[s.value for s in f.statuses or ()],
                channels=[c.value for c in f.channels or ()],
                recipient_id=(
                    from_global_id(f.recipient_id, "User", field="filter.recipientId")
                    if f.recipient_id
                    else None
                ),
                ticket_id=(
                    ticket_pk(f.ticket_id, field="filter.ticketId") if f.ticket_id else None
                ),
            )
            page = await info.context.services.notifications.deliveries(
                actor, query, first=page_size(first), before_id=_before(after)
            )
        except DomainError as exc:
            raise coded_error(exc) from exc
        edges = [
            NotificationDeliveryEdge(cursor=_cursor(r.id), node=NotificationDelivery.from_row(r))
            for r in page.items
        ]
        return NotificationDeliveryConnection(
            edges=edges,
            page_info=_page_info([e.cursor for e in edges], page.has_next, after),
            total_count=page.total,
        )


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The caller's notifications to mark read."
    )
    all: bool = strawberry.field(default=False, description="Mark every unread one read.")


@strawberry.type
class MarkNotificationsReadPayload:
    marked_count: int
    unread_count: int
    notifications: list[Notification]
    user_errors: list[UserError]


@strawberry.input
class NotificationPreferenceInput:
    event: NotifyEvent
    channel: Channel
    enabled: bool


@strawberry.input
class UpdateNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput]
    reset: bool = strawberry.field(
        default=False, description="Forget every earlier choice first (back to the defaults)."
    )


@strawberry.input
class UpdateNotificationDefaultsInput:
    audience: Audience
    preferences: list[NotificationPreferenceInput]


@strawberry.type
class NotificationPreferencesPayload:
    preferences: list[NotificationPreference]
    user_errors: list[UserError]


@strawberry.input
class RetryNotificationInput:
    id: strawberry.ID


@strawberry.type
class RetryNotificationPayload:
    delivery: NotificationDelivery | None
    user_errors: list[UserError]


def _changes(items: list[NotificationPreferenceInput]) -> list[Change]:
    return [Change(i.event, i.channel, i.enabled) for i in items]


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        description="Mark some (`ids`) or all (`all: true`) of the caller's in-app "
        "notifications read."
    )
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        actor = await info.context.actor()
        svc = info.context.services.notifications

        async def work() -> tuple[int, list[NotificationRow]]:
            if input.all == (input.ids is not None):
                raise ValidationFailed("give `ids` or `all: true`, not both", field="ids")
            ids = (
                None
                if input.all
                else [from_global_id(i, "Notification", field="ids") for i in input.ids or ()]
            )
            marked = await svc.mark_read(actor, ids)
            rows = await svc.own(actor, ids or ())
            return marked, rows

        result, errors = await attempt(work)
        marked, rows = result if result is not None else (0, [])
        return MarkNotificationsReadPayload(
            marked_count=marked,
            unread_count=await svc.unread_count(actor),
            notifications=[Notification.from_row(r) for r in rows],
            user_errors=errors,
        )

    @strawberry.mutation(description="Choose, per event and channel, what reaches the caller.")
    async def update_notification_preferences(
        self, info: Info, input: UpdateNotificationPreferencesInput
    ) -> NotificationPreferencesPayload:
        actor = await info.context.actor()
        svc = info.context.services.notifications
        cells, errors = await attempt(
            lambda: svc.update_preferences(actor, _changes(input.preferences), reset=input.reset)
        )
        if cells is None:
            cells = await svc.preferences(actor)
        return NotificationPreferencesPayload(
            preferences=[NotificationPreference.from_cell(c) for c in cells], user_errors=errors
        )

    @strawberry.mutation(description="Admins: the defaults for people who made no choice.")
    async def update_notification_defaults(
        self, info: Info, input: UpdateNotificationDefaultsInput
    ) -> NotificationPreferencesPayload:
        actor = await info.context.actor()
        svc = info.context.services.notifications
        cells, errors = await attempt(
            lambda: svc.update_defaults(actor, input.audience, _changes(input.preferences))
        )
        return NotificationPreferencesPayload(
            preferences=[NotificationPreference.from_cell(c) for c in cells or ()],
            user_errors=errors,
        )

    @strawberry.mutation(description="Admins: retry a FAILED notification with fresh attempts.")
    async def retry_notification(
        self, info: Info, input: RetryNotificationInput
    ) -> RetryNotificationPayload:
        actor = await info.context.actor()
        svc = info.context.services.notifications
        row, errors = await attempt(
            lambda: svc.retry(actor, from_global_id(input.id, "Notification"))
        )
        return RetryNotificationPayload(
            delivery=NotificationDelivery.from_row(row) if row is not None else None,
            user_errors=errors,
        )
