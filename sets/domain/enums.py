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
    # Collaboration (issue 7)
    TASK_ADDED = "TASK_ADDED"
    TASK_UPDATED = "TASK_UPDATED"
    TASK_COMPLETED = "TASK_COMPLETED"
    TASK_REOPENED = "TASK_REOPENED"
    TASK_DELETED = "TASK_DELETED"
    TASKS_REORDERED = "TASKS_REORDERED"
    RESOLVED_OVER_OPEN_TASKS = "RESOLVED_OVER_OPEN_TASKS"
    LINKED = "LINKED"
    UNLINKED = "UNLINKED"
    TIMER_STARTED = "TIMER_STARTED"
    TIMER_STOPPED = "TIMER_STOPPED"
    TIME_LOGGED = "TIME_LOGGED"
    TIME_ENTRY_UPDATED = "TIME_ENTRY_UPDATED"
    TIME_ENTRY_DELETED = "TIME_ENTRY_DELETED"
    RATED = "RATED"
    KNOWLEDGE_CAPTURED = "KNOWLEDGE_CAPTURED"
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
    AUTO_ASSIGN_SKIPPED = "AUTO_ASSIGN_SKIPPED"  # no one qualified: left in the team queue
