"""request log: per-workspace body logging and each call's routing story

Revision ID: 0009
Revises: 0008

``workspace_logging`` holds a workspace's own choice on body logging (``log_bodies``; no row:
the server's default, ``RELAYGATE_LOG_BODIES``) and how many days stored bodies are kept
(``retention_days``; the control plane's sweep blanks older ones, the usage numbers stay).
``usage_events.attempt_log`` is a call's routing story when it had more than one way to go
(each attempt: model, upstream model, status, error code, milliseconds, first/retry/
fallback/skipped); ``requested_model`` the model the client named when another one answered
(a fallback, a load balancer's pick); ``error_message`` what relaygate told the client when it
refused or failed the call. ``ix_usage_events_request`` finds a call by the ``x-request-id`` its
client saw without scanning the workspace's events.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_logging",
        sa.Column(
            "workspace_id",
            sa.String(36),
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_workspace_logging_workspace_id_workspaces"
            ),
            nullable=False,
        ),
        sa.Column("log_bodies", sa.Boolean, nullable=False),
        sa.Column("retention_days", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", name="pk_workspace_logging"),
    )
    with op.batch_alter_table("usage_events", table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.add_column(sa.Column("attempt_log", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("requested_model", sa.String(260), nullable=True))
        batch_op.add_column(sa.Column("error_message", sa.String(512), nullable=True))
    op.create_index("ix_usage_events_request", "usage_events", ["workspace_id", "request_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_events_request", table_name="usage_events")
    with op.batch_alter_table("usage_events", table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.drop_column("error_message")
        batch_op.drop_column("requested_model")
        batch_op.drop_column("attempt_log")
    op.drop_table("workspace_logging")
