"""Collaboration: tasks, ticket links, time entries, CSAT ratings, knowledge articles

Revision ID: 0005
Revises: 0004

New tables only: on SQLite, rebuilding `tickets` or `comments` would drop the full-text
search triggers of 0003.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "ticket_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        _at("due_at", True),
        _at("done_at", True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("deleted_at", True),
        _fk("ticket_tasks", "ticket_id", "tickets"),
        _fk("ticket_tasks", "assignee_id", "users"),
        _fk("ticket_tasks", "done_by", "users"),
        _fk("ticket_tasks", "created_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_tasks")),
    )
    op.create_index("ix_ticket_tasks_ticket", "ticket_tasks", ["ticket_id", "position"])
    op.create_table(
        "ticket_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_ticket_id", sa.Integer(), nullable=False),
        sa.Column("to_ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _at("created_at"),
        _at("deleted_at", True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        _fk("ticket_links", "from_ticket_id", "tickets"),
        _fk("ticket_links", "to_ticket_id", "tickets"),
        _fk("ticket_links", "created_by", "users"),
        _fk("ticket_links", "deleted_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_links")),
    )
    op.create_index("ix_ticket_links_from", "ticket_links", ["from_ticket_id"])
    op.create_index("ix_ticket_links_to", "ticket_links", ["to_ticket_id"])
    op.create_table(
        "time_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=False),
        _at("started_at", True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        _at("spent_at"),
        sa.Column("note", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("deleted_at", True),
        _fk("time_entries", "ticket_id", "tickets"),
        _fk("time_entries", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entries")),
    )
    op.create_index("ix_time_entries_ticket", "time_entries", ["ticket_id"])
    op.create_index("ix_time_entries_user_running", "time_entries", ["user_id", "running"])
    op.create_table(
        "ticket_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        _at("created_at"),
        _fk("ticket_ratings", "ticket_id", "tickets"),
        _fk("ticket_ratings", "rater_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_ratings")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_ticket_ratings_ticket_id")),
    )
    op.create_index(
        op.f("ix_ticket_ratings_created_at"), "ticket_ratings", ["created_at"], unique=False
    )
    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("source_ticket_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("deleted_at", True),
        _fk("knowledge_articles", "category_id", "categories"),
        _fk("knowledge_articles", "source_ticket_id", "tickets"),
        _fk("knowledge_articles", "author_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_articles")),
    )
    op.create_index("ix_knowledge_articles_source", "knowledge_articles", ["source_ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_knowledge_articles_source", table_name="knowledge_articles")
    op.drop_table("knowledge_articles")
    op.drop_index(op.f("ix_ticket_ratings_created_at"), table_name="ticket_ratings")
    op.drop_table("ticket_ratings")
    op.drop_index("ix_time_entries_user_running", table_name="time_entries")
    op.drop_index("ix_time_entries_ticket", table_name="time_entries")
    op.drop_table("time_entries")
    op.drop_index("ix_ticket_links_to", table_name="ticket_links")
    op.drop_index("ix_ticket_links_from", table_name="ticket_links")
    op.drop_table("ticket_links")
    op.drop_index("ix_ticket_tasks_ticket", table_name="ticket_tasks")
    op.drop_table("ticket_tasks")
