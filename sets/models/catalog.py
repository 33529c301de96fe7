from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from sets.models.base import Base


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    default_priority: Mapped[str | None] = mapped_column(String(2), default=None)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    external_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Auto-assignment (issue 7): the skill a new ticket's assignee needs (null: any member of
    # the team) and whether tickets filed here are assigned automatically.
    required_skill: Mapped[str | None] = mapped_column(String(40), default=None)
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PriorityRule(Base):
    __tablename__ = "priority_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), default=None)
    keywords: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(String(2), unique=True)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    warning_percent: Mapped[int] = mapped_column(Integer, default=75)
    pause_statuses: Mapped[str] = mapped_column(String(120), default="PENDING")
    # A business-hours calendar (sets.domain.calendar.calendar_to_dict); null = round the clock.
    calendar: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    updated_at: Mapped[datetime]


class EscalationPolicy(Base):
    """One row per level (1-3): when it is reached after a breach, and what it does."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(Integer, unique=True)
    after_breach_percent: Mapped[int] = mapped_column(Integer)
    actions: Mapped[str] = mapped_column(String(200))
    target_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    updated_at: Mapped[datetime]
