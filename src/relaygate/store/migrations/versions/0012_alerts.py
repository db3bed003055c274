"""alert rules and deliveries

Revision ID: 0012
Revises: 0011

A workspace's alert rules (the webhook's signing secret sealed like upstream keys), the
episodes firing now (one row per rule and subject), every event sent or to be sent with
its delivery log, and the one-row lease of the process that evaluates the rules.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _workspace(table: str) -> sa.Column[str]:
    return sa.Column(
        "workspace_id",
        sa.String(36),
        sa.ForeignKey("workspaces.id", ondelete="CASCADE", name=f"fk_{table}_workspace_id_workspaces"),
        nullable=False,
    )


def _moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.String(36), nullable=False),
        _workspace("alert_rules"),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("webhook_url", sa.String(2048), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("secret_key_id", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
    )
    op.create_index("ix_alert_rules_workspace", "alert_rules", ["workspace_id"])
    op.create_table(
        "alert_states",
        sa.Column(
            "rule_id",
            sa.String(36),
            sa.ForeignKey("alert_rules.id", ondelete="CASCADE", name="fk_alert_states_rule_id_alert_rules"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(260), nullable=False),
        _moment("since"),
        sa.Column("value", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("rule_id", "subject", name="pk_alert_states"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.String(36), nullable=False),
        _workspace("alert_events"),
        sa.Column("rule_id", sa.String(36), nullable=False),
        sa.Column("rule_name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("test", sa.Boolean, nullable=False),
        sa.Column("subject", sa.String(260), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("threshold", sa.Float, nullable=True),
        _moment("at"),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _moment("next_attempt_at", nullable=True),
        _moment("delivered_at", nullable=True),
        sa.Column("deliveries", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
    )
    op.create_index("ix_alert_events_workspace", "alert_events", ["workspace_id", "id"])
    op.create_index("ix_alert_events_due", "alert_events", ["delivery", "next_attempt_at"])
    op.create_table(
        "alert_lease",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(80), nullable=True),
        _moment("expires_at", nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_alert_lease"),
    )


def downgrade() -> None:
    op.drop_table("alert_lease")
    op.drop_index("ix_alert_events_due", table_name="alert_events")
    op.drop_index("ix_alert_events_workspace", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_states")
    op.drop_index("ix_alert_rules_workspace", table_name="alert_rules")
    op.drop_table("alert_rules")
