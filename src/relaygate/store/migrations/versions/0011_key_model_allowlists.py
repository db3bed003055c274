"""per-key model allow-lists and key expiry

Revision ID: 0011
Revises: 0010

``api_keys.allowed_models`` is the list of router model ids a key may call (NULL: every
model of its workspace); a model outside it is answered as one of another workspace.
``api_keys.expires_at`` is when the key stops authenticating (NULL: never).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("allowed_models", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("allowed_models")
        batch_op.drop_column("expires_at")
