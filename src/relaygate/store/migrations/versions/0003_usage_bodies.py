"""request and answer bodies of usage events, kept only when body logging is on

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("response_body", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_column("response_body")
        batch_op.drop_column("request_body")
