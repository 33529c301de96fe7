"""SQLAlchemy tables: data only, no rules."""

from sets.models.base import Base
from sets.models.catalog import Category, EscalationPolicy, PriorityRule, SlaPolicy
from sets.models.notifications import Notification
from sets.models.people import RefreshToken, Team, TeamMembership, User
from sets.models.saved_searches import SavedSearch
from sets.models.tickets import Comment, Ticket, TicketEvent

__all__ = [
    "Base",
    "Category",
    "Comment",
    "EscalationPolicy",
    "Notification",
    "PriorityRule",
    "RefreshToken",
    "SavedSearch",
    "SlaPolicy",
    "Team",
    "TeamMembership",
    "Ticket",
    "TicketEvent",
    "User",
]
