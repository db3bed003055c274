"""experiments and their items

Revision ID: 0008
Revises: 0007

An experiment runs a dataset's datapoints against several targets and scores every
answer. Its row holds the definition, the run's status and counters, and the lease of
the one process running it; ``experiment_items`` holds one row per datapoint x target,
claimed before its answer is generated and finished with the answer and its scores.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, nullable=False)


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column(
            "workspace_id",
            sa.String(36),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE", name="fk_experiments_workspace_id_workspaces"),
            nullable=False,
        ),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("dataset_id", sa.String(36), nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("evaluators", sa.JSON, nullable=False),
        sa.Column("parameters", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("concurrency", sa.Integer, nullable=False),
        sa.Column("budget_nano", sa.BigInteger, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        _counter("total"),
        _counter("done"),
        _counter("failed"),
        sa.Column("spend_nano", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("owner", sa.String(80), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("run_by", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
    )
    op.create_index("ix_experiments_workspace_id", "experiments", ["workspace_id", "id"])
    op.create_index("ix_experiments_status", "experiments", ["status"])
    op.create_table(
        "experiment_items",
        sa.Column(
            "experiment_id",
            sa.String(36),
            sa.ForeignKey(
                "experiments.id", ondelete="CASCADE", name="fk_experiment_items_experiment_id_experiments"
            ),
            nullable=False,
        ),
        sa.Column("datapoint_id", sa.String(36), nullable=False),
        sa.Column("target", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(80), nullable=True),
        sa.Column("claim", sa.String(32), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seq", sa.BigInteger, nullable=True),
        sa.Column("output", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("ttft_ms", sa.Float, nullable=True),
        sa.Column("prompt_tokens", sa.Integer, nullable=True),
        sa.Column("completion_tokens", sa.Integer, nullable=True),
        sa.Column("total_tokens", sa.Integer, nullable=True),
        sa.Column("cost_nano", sa.BigInteger, nullable=False),
        sa.Column("eval_cost_nano", sa.BigInteger, nullable=False),
        sa.Column("answered_by", sa.String(260), nullable=True),
        sa.Column("deployment_version", sa.Integer, nullable=True),
        sa.Column("scores", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("experiment_id", "datapoint_id", "target", name="pk_experiment_items"),
    )
    op.create_index("ix_experiment_items_claims", "experiment_items", ["experiment_id", "target", "status"])
    op.create_index("ix_experiment_items_seq", "experiment_items", ["experiment_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_experiment_items_seq", table_name="experiment_items")
    op.drop_index("ix_experiment_items_claims", table_name="experiment_items")
    op.drop_table("experiment_items")
    op.drop_index("ix_experiments_status", table_name="experiments")
    op.drop_index("ix_experiments_workspace_id", table_name="experiments")
    op.drop_table("experiments")
