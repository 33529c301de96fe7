"""Files attached to tickets and comments (issue 7). The bytes live in the content-addressed
store under SETS_DATA_DIR (sets.services.attachment_store); a row names them by sha256.
A new table only: altering `tickets`/`comments` on SQLite would drop the search triggers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sets.models.base import Base


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_ticket", "ticket_id", "id"),
        Index("ix_attachments_comment", "comment_id"),
        Index("ix_attachments_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), default=None)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Copied from the comment (whose flag never changes): requesters never see these.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
