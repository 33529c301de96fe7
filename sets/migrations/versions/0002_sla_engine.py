"""SLA engine: business calendars, escalation policies, clock bookkeeping on tickets

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_policies") as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.JSON(), nullable=True))
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(
            sa.Column("sla_stopped_seconds", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("sla_stopped_since", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_tickets_status_resolved", ["status", "resolved_at"])
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("after_breach_percent", sa.Integer(), nullable=False),
        sa.Column("actions", sa.String(length=200), nullable=False),
        sa.Column("target_team_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_team_id"],
            ["teams.id"],
            name=op.f("fk_escalation_policies_target_team_id_teams"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policies")),
        sa.UniqueConstraint("level", name=op.f("uq_escalation_policies_level")),
    )
    _seed_escalation_policies()


def _seed_escalation_policies() -> None:
    # SPEC §5 defaults: level, moment after the breach (% of the resolution target), actions.
    table = sa.table(
        "escalation_policies",
        sa.column("level", sa.Integer),
        sa.column("after_breach_percent", sa.Integer),
        sa.column("actions", sa.String),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = [
        (1, 0, "NOTIFY_ASSIGNEE,NOTIFY_TEAM_MANAGERS"),
        (2, 50, "NOTIFY_TEAM_MANAGERS,ROUTE_TO_TIER2"),
        (3, 100, "NOTIFY_ADMINS,ROUTE_TO_EXTERNAL"),
    ]
    op.bulk_insert(
        table,
        [
            {"level": level, "after_breach_percent": pct, "actions": actions, "updated_at": now}
            for level, pct, actions in rows
        ],
    )


def downgrade() -> None:
    op.drop_table("escalation_policies")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_index("ix_tickets_status_resolved")
        batch_op.drop_column("sla_stopped_since")
        batch_op.drop_column("sla_stopped_seconds")
    with op.batch_alter_table("sla_policies") as batch_op:
        batch_op.drop_column("calendar")
