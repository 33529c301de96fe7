"""Indexes for the default ticket orders, so a page is read in index order, not sorted

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE INDEX: no batch mode, which on SQLite would rebuild `tickets` and drop
    # the search triggers of 0003.
    op.create_index("ix_tickets_created_id", "tickets", ["created_at", "id"])
    op.create_index("ix_tickets_updated_id", "tickets", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_updated_id", table_name="tickets")
    op.drop_index("ix_tickets_created_id", table_name="tickets")
