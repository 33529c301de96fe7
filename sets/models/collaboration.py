"""Collaboration data (issue 7): tasks, links, time entries, ratings, knowledge articles.
New tables only: altering `tickets`/`comments` on SQLite would drop the search triggers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sets.models.base import Base


class TicketTask(Base):
    __tablename__ = "ticket_tasks"
    __table_args__ = (Index("ix_ticket_tasks_ticket", "ticket_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class TicketLink(Base):
    """`from_ticket_id` BLOCKS / RELATES_TO / DUPLICATES `to_ticket_id`; unlinking soft-deletes."""

    __tablename__ = "ticket_links"
    __table_args__ = (
        Index("ix_ticket_links_from", "from_ticket_id"),
        Index("ix_ticket_links_to", "to_ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    to_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class TimeEntry(Base):
    """Minutes spent by one person on one ticket: a timer (running while `minutes` is null)
    or logged by hand."""

    __tablename__ = "time_entries"
    __table_args__ = (
        Index("ix_time_entries_ticket", "ticket_id"),
        Index("ix_time_entries_user_running", "user_id", "running"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    running: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    spent_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class TicketRating(Base):
    """CSAT: one per ticket, by its requester."""

    __tablename__ = "ticket_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(index=True)


class KnowledgeArticle(Base):
    __tablename__ = "knowledge_articles"
    __table_args__ = (Index("ix_knowledge_articles_source", "source_ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), default=None)
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
