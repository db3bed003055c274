"""Reads and writes of workspaces' web search backends (one per workspace at most).

Every write bumps ``catalog_state.version`` in its transaction, as model writes do: each
process's catalog holds the backends (keys decrypted once per rebuild), so a change
reaches every process's data plane the way a model change does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import tables
from relaygate.store.records import utcnow
from relaygate.store.repository import _bump, aware

_TABLE = tables.search_backends


@dataclass(frozen=True)
class SearchBackendRecord:
    id: str
    workspace_id: str
    kind: str
    base_url: str
    api_key_ciphertext: bytes | None = field(repr=False)
    api_key_key_id: str | None
    api_key_hint: str | None
    max_searches: int
    timeout_s: float
    cache_ttl_s: int
    price_per_1000: str | None
    prefer_relaygate: bool
    created_at: datetime
    updated_at: datetime


def _record(row: RowMapping) -> SearchBackendRecord:
    values = dict(row)
    values["created_at"] = aware(values["created_at"]) or utcnow()
    values["updated_at"] = aware(values["updated_at"]) or utcnow()
    return SearchBackendRecord(**values)


async def get_backend(engine: AsyncEngine, workspace_id: str) -> SearchBackendRecord | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(_TABLE).where(_TABLE.c.workspace_id == workspace_id))).first()
    return _record(row._mapping) if row else None


async def list_backends(engine: AsyncEngine) -> list[SearchBackendRecord]:
    """Every workspace's backend (the catalog's rebuild reads them all)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(_TABLE))).mappings().all()
    return [_record(row) for row in rows]


async def put_backend(engine: AsyncEngine, backend: SearchBackendRecord) -> None:
    """Store the workspace's backend, replacing the one it had (same id when it is kept)."""
    values = asdict(backend)
    async with engine.begin() as conn:
        await conn.execute(delete(_TABLE).where(_TABLE.c.workspace_id == backend.workspace_id))
        await conn.execute(insert(_TABLE).values(**values))
        await _bump(conn)


async def delete_backend(engine: AsyncEngine, workspace_id: str) -> bool:
    async with engine.begin() as conn:
        result = await conn.execute(delete(_TABLE).where(_TABLE.c.workspace_id == workspace_id))
        if result.rowcount:
            await _bump(conn)
    return bool(result.rowcount)


async def reseal_backend_key(
    engine: AsyncEngine, backend_id: str, old_ciphertext: bytes, key_id: str, ciphertext: bytes
) -> bool:
    """Replace a backend's sealed key if it is still ``old_ciphertext`` (master-key rotation)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(_TABLE)
            .where((_TABLE.c.id == backend_id) & (_TABLE.c.api_key_ciphertext == old_ciphertext))
            .values(api_key_ciphertext=ciphertext, api_key_key_id=key_id)
        )
        if result.rowcount:
            await _bump(conn)
    return bool(result.rowcount)
