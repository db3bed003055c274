"""deployments and their versions; usage events learn deployments, documents and web searches

Revision ID: 0005
Revises: 0004

A deployment row holds its key and current version number; each change adds a
``deployment_versions`` row (history is never rewritten, a rollback is a new version).
Usage events say which deployment, version and variant served a call, the RAG chunks a
deployment call carried, and how many web searches relaygate ran for it and their cost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.String(36),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE", name="fk_deployments_workspace_id_workspaces"),
            nullable=False,
        ),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.UniqueConstraint("workspace_id", "key", name="uq_deployments_workspace_key"),
    )
    op.create_table(
        "deployment_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "deployment_id",
            sa.String(36),
            sa.ForeignKey(
                "deployments.id", ondelete="CASCADE", name="fk_deployment_versions_deployment_id_deployments"
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("note", sa.String(256), nullable=True),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_versions"),
        sa.UniqueConstraint("deployment_id", "version", name="uq_deployment_versions_deployment_version"),
    )
    with op.batch_alter_table("usage_events", table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.add_column(sa.Column("deployment_key", sa.String(128), nullable=True))
        batch_op.add_column(sa.Column("deployment_version", sa.Integer, nullable=True))
        batch_op.add_column(sa.Column("variant", sa.String(128), nullable=True))
        batch_op.add_column(sa.Column("documents", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("searches", sa.Integer, nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("search_cost_nano", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("usage_events", table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        for column in (
            "search_cost_nano",
            "searches",
            "documents",
            "variant",
            "deployment_version",
            "deployment_key",
        ):
            batch_op.drop_column(column)
    op.drop_table("deployment_versions")
    op.drop_table("deployments")
