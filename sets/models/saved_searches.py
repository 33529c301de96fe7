from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sets.models.base import Base


class SavedSearch(Base):
    """A named ticket search: the filter as the API takes it (global ids), the words and the
    order. Personal (team_id null) or shared with a team; soft-deleted, like everything."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        Index("ix_saved_searches_owner", "owner_id"),
        Index("ix_saved_searches_team", "team_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    name: Mapped[str] = mapped_column(String(120))
    search: Mapped[str | None] = mapped_column(String(500), default=None)
    filter: Mapped[dict[str, Any]]
    order_field: Mapped[str | None] = mapped_column(String(32), default=None)
    order_direction: Mapped[str | None] = mapped_column(String(4), default=None)
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
