from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REQUESTER = "REQUESTER"
    AGENT = "AGENT"
    MANAGER = "MANAGER"
    ADMIN = "ADMIN"

    @property
    def is_staff(self) -> bool:
        return self is not Role.REQUESTER


class TicketStatus(StrEnum):
    NEW = "NEW"
    TODO = "TODO"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING = "PENDING"
    BLOCKED = "BLOCKED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"

    @property
    def is_open(self) -> bool:
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Urgency(StrEnum):
    """What the requester suggests; mapped onto a priority when no rule applies."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    NORMAL = "NORMAL"
    LOW = "LOW"

    @property
    def priority(self) -> Priority:
        return {
            Urgency.CRITICAL: Priority.P1,
            Urgency.HIGH: Priority.P2,
            Urgency.NORMAL: Priority.P3,
            Urgency.LOW: Priority.P4,
        }[self]


class EventKind(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    ASSIGNED = "ASSIGNED"
    UNASSIGNED = "UNASSIGNED"
    STATUS_CHANGED = "STATUS_CHANGED"
    PRIORITY_CHANGED = "PRIORITY_CHANGED"
    COMMENTED = "COMMENTED"
    FIRST_RESPONSE = "FIRST_RESPONSE"
    ESCALATED = "ESCALATED"
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACHED = "SLA_BREACHED"
