"""datasets and their datapoints; evaluators and their versions

Revision ID: 0007
Revises: 0006

A dataset holds datapoints (inputs, chat messages, an expected output) that experiments
run models on. An evaluator row holds its key and current version number; each change
adds an ``evaluator_versions`` row with the whole definition, so history is never
rewritten. Ids are ULIDs: ordering by id is ordering by creation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _workspace(table: str) -> sa.Column[str]:
    return sa.Column(
        "workspace_id",
        sa.String(36),
        sa.ForeignKey("workspaces.id", ondelete="CASCADE", name=f"fk_{table}_workspace_id_workspaces"),
        nullable=False,
    )


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("updated_by", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("datasets"),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("path", sa.String(512), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
    )
    op.create_index("ix_datasets_workspace_id", "datasets", ["workspace_id", "id"])
    op.create_table(
        "dataset_datapoints",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "dataset_id",
            sa.String(36),
            sa.ForeignKey(
                "datasets.id", ondelete="CASCADE", name="fk_dataset_datapoints_dataset_id_datasets"
            ),
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("inputs", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("messages", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("expected_output", sa.Text, nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_datapoints"),
    )
    op.create_index("ix_dataset_datapoints_dataset_id", "dataset_datapoints", ["dataset_id", "id"])
    op.create_table(
        "evaluators",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("evaluators"),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_evaluators"),
        sa.UniqueConstraint("workspace_id", "key", name="uq_evaluators_workspace_key"),
    )
    op.create_table(
        "evaluator_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "evaluator_id",
            sa.String(36),
            sa.ForeignKey(
                "evaluators.id", ondelete="CASCADE", name="fk_evaluator_versions_evaluator_id_evaluators"
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("note", sa.String(256), nullable=True),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evaluator_versions"),
        sa.UniqueConstraint("evaluator_id", "version", name="uq_evaluator_versions_evaluator_version"),
    )


def downgrade() -> None:
    op.drop_table("evaluator_versions")
    op.drop_table("evaluators")
    op.drop_index("ix_dataset_datapoints_dataset_id", table_name="dataset_datapoints")
    op.drop_table("dataset_datapoints")
    op.drop_index("ix_datasets_workspace_id", table_name="datasets")
    op.drop_table("datasets")
