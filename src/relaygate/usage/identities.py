"""Upserting the identities a batch of usage events names (off the request path)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from relaygate.store import tables
from relaygate.usage.events import UsageEvent

_PROFILE = ("display_name", "email", "metadata")


def _rows(batch: Sequence[UsageEvent]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for event in batch:
        if event.identity_id is None:
            continue
        profile = event.identity or {}
        row = rows.setdefault(
            (event.workspace_id, event.identity_id),
            {"workspace_id": event.workspace_id, "id": event.identity_id, "first_seen_at": event.created_at},
        )
        row["last_seen_at"] = event.created_at
        for field in _PROFILE:
            if profile.get(field) is not None:
                row[field] = profile[field]
    for row in rows.values():
        for field in _PROFILE:
            row.setdefault(field, None)
    return list(rows.values())


async def upsert_identities(conn: AsyncConnection, batch: Sequence[UsageEvent]) -> None:
    """Insert new identities; refresh last-seen and any profile field the batch carried."""
    rows = _rows(batch)
    if not rows:
        return
    table = tables.identities
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.workspace_id, table.c.id],
        set_={
            "last_seen_at": excluded.last_seen_at,
            **{field: func.coalesce(excluded[field], table.c[field]) for field in _PROFILE},
        },
    )
    # A stable order keeps concurrent writers on PostgreSQL from deadlocking each other.
    await conn.execute(statement, sorted(rows, key=lambda item: (item["workspace_id"], item["id"])))
