"""Who hears of what, on which channel (SPEC §7): channels, delivery states, the events people
subscribe to, built-in defaults, @mentions and retry timing. Pure rules, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sets.domain.enums import Role, TicketStatus
from sets.domain.errors import ValidationFailed


class Channel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SLACK = "SLACK"
    SMS = "SMS"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class Audience(StrEnum):
    """Defaults are kept apart for requesters (customers) and staff."""

    REQUESTER = "REQUESTER"
    STAFF = "STAFF"

    @classmethod
    def of(cls, role: Role) -> Audience:
        return cls.STAFF if role.is_staff else cls.REQUESTER


class NotifyEvent(StrEnum):
    """What a notification is about: the unit of per-user preferences."""

    CREATED = "CREATED"
    ASSIGNED = "ASSIGNED"
    STATUS_CHANGED = "STATUS_CHANGED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    COMMENTED = "COMMENTED"
    MENTIONED = "MENTIONED"
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACHED = "SLA_BREACHED"
    ESCALATED = "ESCALATED"


E, C = NotifyEvent, Channel
_BOTH = frozenset({C.IN_APP, C.EMAIL})

BUILT_IN: Mapping[Audience, Mapping[NotifyEvent, frozenset[Channel]]] = {
    # Requesters hear of their own tickets' public changes, by email and in the app.
    Audience.REQUESTER: {
        E.CREATED: _BOTH,
        E.STATUS_CHANGED: _BOTH,
        E.RESOLVED: _BOTH,
        E.CLOSED: _BOTH,
        E.COMMENTED: _BOTH,
        E.MENTIONED: _BOTH,
    },
    # Staff: new work and direct mentions on Slack; the rest in the app, urgent ones by mail.
    Audience.STAFF: {
        E.CREATED: frozenset({C.IN_APP}),
        E.ASSIGNED: frozenset({C.IN_APP, C.SLACK}),
        E.STATUS_CHANGED: frozenset({C.IN_APP}),
        E.RESOLVED: frozenset({C.IN_APP}),
        E.CLOSED: frozenset({C.IN_APP}),
        E.COMMENTED: _BOTH,
        E.MENTIONED: frozenset({C.IN_APP, C.EMAIL, C.SLACK}),
        E.SLA_WARNING: _BOTH,
        E.SLA_BREACHED: _BOTH,
        E.ESCALATED: _BOTH,
    },
}

# Slack is the staff's workspace: customers are never posted there.
CHANNELS: Mapping[Audience, tuple[Channel, ...]] = {
    Audience.REQUESTER: (C.IN_APP, C.EMAIL, C.SMS),
    Audience.STAFF: (C.IN_APP, C.EMAIL, C.SLACK, C.SMS),
}


def events_for(audience: Audience) -> tuple[NotifyEvent, ...]:
    return tuple(BUILT_IN[audience])


Setting = Mapping[tuple[NotifyEvent, Channel], bool]


class Source(StrEnum):
    """Where an effective preference comes from."""

    USER = "USER"
    DEFAULT = "DEFAULT"
    BUILT_IN = "BUILT_IN"


@dataclass(frozen=True)
class Cell:
    event: NotifyEvent
    channel: Channel
    enabled: bool
    source: Source


def cell(
    audience: Audience,
    event: NotifyEvent,
    channel: Channel,
    *,
    defaults: Setting,
    own: Setting | None = None,
) -> Cell:
    """One user's choice if made, else the admins' default, else the built-in one."""
    key = (event, channel)
    if own is not None and key in own:
        return Cell(event, channel, own[key], Source.USER)
    if key in defaults:
        return Cell(event, channel, defaults[key], Source.DEFAULT)
    return Cell(event, channel, channel in BUILT_IN[audience].get(event, ()), Source.BUILT_IN)


def matrix(audience: Audience, *, defaults: Setting, own: Setting | None = None) -> list[Cell]:
    """Every event this audience hears of, on every channel open to it."""
    return [
        cell(audience, event, channel, defaults=defaults, own=own)
        for event in events_for(audience)
        for channel in CHANNELS[audience]
    ]


def channels_for(
    audience: Audience, event: NotifyEvent, *, defaults: Setting, own: Setting | None = None
) -> list[Channel]:
    return [
        channel
        for channel in CHANNELS[audience]
        if cell(audience, event, channel, defaults=defaults, own=own).enabled
    ]


def check_setting(audience: Audience, event: NotifyEvent, channel: Channel, field: str) -> None:
    if event not in BUILT_IN[audience]:
        raise ValidationFailed(
            f"{audience.value.lower()} notifications have no {event.value} event", field=field
        )
    if channel not in CHANNELS[audience]:
        raise ValidationFailed(
            f"{channel.value} is not a channel for {audience.value.lower()}s", field=field
        )


def status_event(to: TicketStatus) -> NotifyEvent:
    if to is TicketStatus.RESOLVED:
        return NotifyEvent.RESOLVED
    if to is TicketStatus.CLOSED:
        return NotifyEvent.CLOSED
    return NotifyEvent.STATUS_CHANGED


# Queue bookkeeping a requester has no use for (assignment moves NEW -> TODO, unassigning back).
QUIET_FOR_REQUESTER = frozenset({TicketStatus.NEW, TicketStatus.TODO})

# "@name" not preceded by a word character, "@" or "." (so mail addresses are not mentions);
# the name is a username (sets.domain.validation) without trailing punctuation.
_MENTION = re.compile(r"(?<![\w@.])@([a-z0-9][a-z0-9._-]{0,38}[a-z0-9])", re.IGNORECASE)
MAX_MENTIONS = 20


def mentioned_usernames(text: str) -> list[str]:
    """Distinct usernames mentioned in `text`, in order of first mention (at most 20)."""
    found: list[str] = []
    for match in _MENTION.finditer(text):
        name = match.group(1).lower()
        if name not in found:
            found.append(name)
        if len(found) == MAX_MENTIONS:
            break
    return found


def retry_delay(attempt: int, *, base: float, cap: float = 3600.0) -> float:
    """Exponential backoff after failed attempt number `attempt` (1-based): base, 2x, 4x …"""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


def unique(ids: Iterable[int | None]) -> list[int]:
    """Recipients in first-seen order, without repeats or blanks."""
    seen: list[int] = []
    for value in ids:
        if value is not None and value not in seen:
            seen.append(value)
    return seen
