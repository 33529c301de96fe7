"""Attachments on tickets and comments (issue 7)

Revision ID: 0007
Revises: 0006

A new table only: on SQLite, rebuilding `tickets` or `comments` would drop the full-text
search triggers of 0003. The file contents live under SETS_DATA_DIR/attachments, named by
their sha256; downgrading drops the rows and leaves the files.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_attachments_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("ticket_id", "tickets"),
        _fk("comment_id", "comments"),
        _fk("uploaded_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index("ix_attachments_ticket", "attachments", ["ticket_id", "id"])
    op.create_index("ix_attachments_comment", "attachments", ["comment_id"])
    op.create_index("ix_attachments_sha256", "attachments", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_attachments_sha256", table_name="attachments")
    op.drop_index("ix_attachments_comment", table_name="attachments")
    op.drop_index("ix_attachments_ticket", table_name="attachments")
    op.drop_table("attachments")
