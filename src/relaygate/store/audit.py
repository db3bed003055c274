"""The admin audit log in the store: one row per change made through /v2, read newest first.

Rows are written by ``control/audit_trail.py`` and never changed; ids are ULIDs, so a page
ordered by id is ordered by time and its last id is the next page's cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import tables
from relaygate.store.repository import aware

AUDIT = tables.audit_log


@dataclass(frozen=True)
class AuditEntry:
    id: str
    workspace_id: str
    at: datetime
    actor_key_id: str | None
    actor_name: str | None
    actor_prefix: str | None
    action: str
    resource_type: str
    resource_id: str | None
    method: str
    path: str
    status: int
    before: Any
    after: Any
    request_id: str
    client_address: str | None


@dataclass(frozen=True)
class AuditFilter:
    actor_key_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def clauses(self, workspace_id: str) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [AUDIT.c.workspace_id == workspace_id]
        for column, value in (
            (AUDIT.c.actor_key_id, self.actor_key_id),
            (AUDIT.c.resource_type, self.resource_type),
            (AUDIT.c.resource_id, self.resource_id),
            (AUDIT.c.action, self.action),
        ):
            if value is not None:
                clauses.append(column == value)
        if self.since is not None:
            clauses.append(AUDIT.c.at >= self.since)
        if self.until is not None:
            clauses.append(AUDIT.c.at < self.until)
        return clauses


async def insert_entry(engine: AsyncEngine, entry: AuditEntry) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(AUDIT).values(**entry.__dict__))


def _entry(row: Any) -> AuditEntry:
    values = dict(row._mapping)
    values["at"] = aware(values["at"])
    return AuditEntry(**values)


async def entries_page(
    engine: AsyncEngine, workspace_id: str, where: AuditFilter, limit: int, after: str | None
) -> tuple[list[AuditEntry], bool]:
    """Up to ``limit`` entries newest first, older than the entry ``after``; and whether more follow."""
    query = select(AUDIT).where(*where.clauses(workspace_id))
    if after is not None:
        query = query.where(AUDIT.c.id < after)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(AUDIT.c.id.desc()).limit(limit + 1))).all()
    return [_entry(row) for row in rows[:limit]], len(rows) > limit


async def key_label(engine: AsyncEngine, key_id: str) -> tuple[str | None, str | None]:
    """The name and display prefix of a key (never its secret or hash); (None, None) if unknown."""
    keys = tables.api_keys
    async with engine.connect() as conn:
        row = (await conn.execute(select(keys.c.name, keys.c.prefix).where(keys.c.id == key_id))).first()
    return (row.name, row.prefix) if row is not None else (None, None)
