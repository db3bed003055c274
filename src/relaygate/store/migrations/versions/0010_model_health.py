"""model health checks

Revision ID: 0010
Revises: 0009

Model health (``control/model_health.py``): ``model_health_minutes`` holds each process's
tally of a model's calls per minute (calls, upstream failures, a latency histogram, the
last success and error), summed over every process for a window and kept 25 hours; an
index on ``usage_events`` by model would have served the same windows but made storing
every event about 70 % dearer (SQLite writer, measured). Periodic health checks are
optional per model: ``model_health_settings`` holds the setting and the lease of the one
process running the model's next check; ``model_health_checks`` keeps the last results of
each model (trimmed on insert).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _model_id(table: str) -> sa.Column[str]:
    return sa.Column(
        "model_id",
        sa.String(36),
        sa.ForeignKey("models.id", ondelete="CASCADE", name=f"fk_{table}_model_id_models"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "model_health_minutes",
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("router_model", sa.String(260), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("latency", sa.JSON, nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_status", sa.Integer, nullable=True),
        sa.Column("last_error_code", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint(
            "owner", "workspace_id", "router_model", "minute", name="pk_model_health_minutes"
        ),
    )
    op.create_index(
        "ix_model_health_minutes_workspace_id", "model_health_minutes", ["workspace_id", "minute"]
    )
    op.create_table(
        "model_health_settings",
        _model_id("model_health_settings"),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("interval_seconds", sa.Integer, nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(80), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name="pk_model_health_settings"),
    )
    op.create_index("ix_model_health_settings_due", "model_health_settings", ["enabled", "next_run_at"])
    op.create_table(
        "model_health_checks",
        sa.Column("id", sa.String(36), nullable=False),
        _model_id("model_health_checks"),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_health_checks"),
    )
    op.create_index("ix_model_health_checks_model_id", "model_health_checks", ["model_id", "created_at"])
    op.create_index(
        "ix_model_health_checks_workspace_id", "model_health_checks", ["workspace_id", "model_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_model_health_checks_workspace_id", table_name="model_health_checks")
    op.drop_index("ix_model_health_checks_model_id", table_name="model_health_checks")
    op.drop_table("model_health_checks")
    op.drop_index("ix_model_health_settings_due", table_name="model_health_settings")
    op.drop_table("model_health_settings")
    op.drop_index("ix_model_health_minutes_workspace_id", table_name="model_health_minutes")
    op.drop_table("model_health_minutes")
