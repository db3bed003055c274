"""web search backends, one per workspace; usage events learn how long their searches took

Revision ID: 0006
Revises: 0005

``search_backends`` holds a workspace's search backend (SearXNG, Brave or Tavily): its
address, its key sealed under the master key, the bound on searches per call, the timeout,
the result cache's lifetime, the price and whether relaygate searches even for models whose
upstream has a search of its own. ``usage_events.search_ms`` is the wall time a call spent
searching (the count and cost came in 0005).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_backends",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.String(36),
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_search_backends_workspace_id_workspaces"
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base_url", sa.String(2048), nullable=False),
        sa.Column("api_key_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("api_key_key_id", sa.String(32), nullable=True),
        sa.Column("api_key_hint", sa.String(32), nullable=True),
        sa.Column("max_searches", sa.Integer, nullable=False),
        sa.Column("timeout_s", sa.Float, nullable=False),
        sa.Column("cache_ttl_s", sa.Integer, nullable=False),
        sa.Column("price_per_1000", sa.String(40), nullable=True),
        sa.Column("prefer_relaygate", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_backends"),
        sa.UniqueConstraint("workspace_id", name="uq_search_backends_workspace_id"),
    )
    with op.batch_alter_table("usage_events", table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.add_column(sa.Column("search_ms", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_events", table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.drop_column("search_ms")
    op.drop_table("search_backends")
