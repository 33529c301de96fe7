"""Skill-based auto-assignment (issue 7)

Revision ID: 0008
Revises: 0007

A `user_skills` table, a required skill and an auto-assign flag on categories, and on teams
an auto-assign flag and the round-robin cursor (the member picked last). Plain ADD COLUMN
only: no table is rebuilt, so the SQLite search triggers on `tickets`/`comments` stay.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_skills_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_skills")),
        sa.UniqueConstraint("user_id", "skill", name=op.f("uq_user_skills_user_id")),
    )
    op.add_column("categories", sa.Column("required_skill", sa.String(length=40), nullable=True))
    op.add_column(
        "categories",
        sa.Column("auto_assign", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "teams", sa.Column("auto_assign", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("teams", sa.Column("auto_assign_last_user_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("teams", "auto_assign_last_user_id")
    op.drop_column("teams", "auto_assign")
    op.drop_column("categories", "auto_assign")
    op.drop_column("categories", "required_skill")
    op.drop_table("user_skills")
