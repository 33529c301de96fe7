"""Outbox rows written in the same transaction as the event that causes them; delivery is a
separate job, so a rolled-back change never notifies and a committed one is never lost.

`notify` is the one door: whoever asks, a row is written only for a recipient who is active
and may see the ticket (an internal event reaches staff only), on the channels their
preferences allow, and at most once per (event, recipient, channel) — the dedupe key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sets.domain import permissions
from sets.domain.notifications import (
    Audience,
    Channel,
    DeliveryStatus,
    NotifyEvent,
    Setting,
    channels_for,
    unique,
)
from sets.domain.tickets import ticket_key
from sets.models import Notification, Ticket, TicketEvent
from sets.services.auth import actor_for
from sets.services.uow import UnitOfWork

SUBJECT_MAX = 255
BODY_MAX = 20_000


def parse_setting(raw: Mapping[tuple[str, str], bool]) -> Setting:
    """Stored (event, channel) choices; names this version does not know are ignored."""
    known: dict[tuple[NotifyEvent, Channel], bool] = {}
    for (event, channel), enabled in raw.items():
        if event in NotifyEvent.__members__ and channel in Channel.__members__:
            known[(NotifyEvent(event), Channel(channel))] = enabled
    return known


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def notify(
    uow: UnitOfWork,
    ticket: Ticket,
    event: TicketEvent,
    recipients: Iterable[int | None],
    *,
    subject: str,
    body: str,
    kind: NotifyEvent | None = None,
    only: Iterable[Channel] | None = None,
    exclude: Iterable[int | None] = (),
) -> list[Notification]:
    """Rows for each recipient on each channel their preferences allow (narrowed to `only`
    when given); `exclude` names people who must not hear of it (the actor themself)."""
    skip, narrowed = set(exclude), None if only is None else set(only)
    wanted = [r for r in unique(recipients) if r not in skip]
    if not wanted:
        return []
    kind = kind or NotifyEvent(event.kind)
    if event.id is None:
        await uow.session.flush()  # the event id is part of the dedupe key
    repo = uow.notifications
    people = await repo.recipients(wanted)
    audiences: dict[int, Audience] = {}
    for recipient in wanted:
        found = people.get(recipient)
        if found is None or not found[0].active:
            continue
        actor = actor_for(*found)
        if not permissions.can_view(actor, ticket):
            continue
        if event.internal and not permissions.can_see_internal(actor):
            continue  # never a word of an internal event to a requester
        audiences[recipient] = Audience.of(found[0].role)
    if not audiences:
        return []
    defaults = {a: parse_setting(s) for a, s in (await repo.defaults()).items()}
    own = await repo.preferences(list(audiences))
    plan: list[tuple[int, Channel]] = []
    for recipient, audience in audiences.items():
        allowed = channels_for(
            audience,
            kind,
            defaults=defaults.get(audience.value, {}),
            own=parse_setting(own.get(recipient, {})),
        )
        if narrowed is not None:
            allowed = [c for c in allowed if c in narrowed]
        plan += [(recipient, channel) for channel in allowed]
    keys = {(r, c): f"{event.id}:{r}:{c.value}" for r, c in plan}
    # A replay (a re-run sweep, a retried job) finds its rows already written.
    taken = await repo.existing_keys(keys.values())
    now = uow.clock.now()
    key = ticket_key(ticket.id)
    rows = []
    for (recipient, channel), dedupe_key in keys.items():
        if dedupe_key in taken:
            continue
        # In-app is delivered by being written: the row is the inbox entry.
        in_app = channel is Channel.IN_APP
        rows.append(
            Notification(
                recipient_id=recipient,
                channel=channel.value,
                event=kind.value,
                ticket_id=ticket.id,
                event_id=event.id,
                subject=_clip(f"[{key}] {subject}", SUBJECT_MAX),
                body=_clip(body, BODY_MAX),
                payload={
                    "ticketId": ticket.id,
                    "ticketKey": key,
                    "eventId": event.id,
                    "kind": event.kind,
                    "internal": event.internal,
                },
                status=(DeliveryStatus.SENT if in_app else DeliveryStatus.PENDING).value,
                attempts=1 if in_app else 0,
                dedupe_key=dedupe_key,
                created_at=now,
                sent_at=now if in_app else None,
            )
        )
    uow.add_notifications(rows)
    return rows
