"""SQLAlchemy tables: data only, no rules."""

from sets.models.attachments import Attachment
from sets.models.base import Base
from sets.models.catalog import Category, EscalationPolicy, PriorityRule, SlaPolicy
from sets.models.collaboration import (
    KnowledgeArticle,
    TicketLink,
    TicketRating,
    TicketTask,
    TimeEntry,
)
from sets.models.notifications import Notification, NotificationDefault, NotificationPreference
from sets.models.people import RefreshToken, Team, TeamMembership, User
from sets.models.saved_searches import SavedSearch
from sets.models.tickets import Comment, Ticket, TicketEvent

__all__ = [
    "Attachment",
    "Base",
    "Category",
    "Comment",
    "EscalationPolicy",
    "KnowledgeArticle",
    "Notification",
    "NotificationDefault",
    "NotificationPreference",
    "PriorityRule",
    "RefreshToken",
    "SavedSearch",
    "SlaPolicy",
    "Team",
    "TeamMembership",
    "Ticket",
    "TicketEvent",
    "TicketLink",
    "TicketRating",
    "TicketTask",
    "TimeEntry",
    "User",
]
