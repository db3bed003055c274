"""Reads and writes of workspaces, keys and models.

Every write also bumps ``catalog_state.version`` in the same transaction: that is how
each relaygate process (and the CLI beside a running server) learns that its
in-memory catalog is stale.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from relaygate.store import tables
from relaygate.store.records import ApiKey, Model, Workspace, new_id, utcnow


class DuplicateError(Exception):
    """A unique constraint refused the write (name or router id already taken)."""


def aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def in_workspace(table: Table, workspace_id: str, row_id: str) -> ColumnElement[bool]:
    """The row ``row_id`` of ``table``, only when it belongs to ``workspace_id``: another
    workspace's id matches nothing, exactly like an unknown one."""
    return (table.c.id == row_id) & (table.c.workspace_id == workspace_id)


async def fetch_in_workspace(
    engine: AsyncEngine, table: Table, workspace_id: str, row_id: str
) -> RowMapping | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(table).where(in_workspace(table, workspace_id, row_id)))).first()
    return row._mapping if row else None


async def _bump(conn: AsyncConnection) -> None:
    await conn.execute(
        update(tables.catalog_state)
        .where(tables.catalog_state.c.id == 1)
        .values(version=tables.catalog_state.c.version + 1)
    )


async def catalog_version(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(
            select(tables.catalog_state.c.version).where(tables.catalog_state.c.id == 1)
        )
    return int(value or 0)


def _workspace(row: RowMapping) -> Workspace:
    return Workspace(id=row["id"], name=row["name"], created_at=aware(row["created_at"]) or utcnow())


def _key(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        role=row["role"],
        key_hash=row["key_hash"],
        prefix=row["prefix"],
        created_at=aware(row["created_at"]) or utcnow(),
        revoked_at=aware(row["revoked_at"]),
        last_used_at=aware(row["last_used_at"]),
        expires_at=aware(row["expires_at"]),
        allowed_models=None if row["allowed_models"] is None else tuple(row["allowed_models"]),
    )


def _model(row: RowMapping) -> Model:
    values = dict(row)
    values["created_at"] = aware(values["created_at"])
    values["updated_at"] = aware(values["updated_at"])
    return Model(**values)


# -- workspaces ---------------------------------------------------------------------


async def get_workspace_by_name(engine: AsyncEngine, name: str) -> Workspace | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(tables.workspaces).where(tables.workspaces.c.name == name))).first()
    return _workspace(row._mapping) if row else None


async def create_workspace(engine: AsyncEngine, name: str) -> Workspace:
    workspace = Workspace(id=new_id(), name=name, created_at=utcnow())
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(tables.workspaces).values(**asdict(workspace)))
            await _bump(conn)
    except IntegrityError as exc:
        raise DuplicateError(f"a workspace named {name!r} already exists") from exc
    return workspace


async def ensure_workspace(engine: AsyncEngine, name: str) -> Workspace:
    existing = await get_workspace_by_name(engine, name)
    if existing is not None:
        return existing
    try:
        return await create_workspace(engine, name)
    except DuplicateError:
        # Another process created it between our read and our write.
        found = await get_workspace_by_name(engine, name)
        if found is None:  # created and deleted again in between
            raise RuntimeError(f"workspace {name!r} was deleted as it was created") from None
        return found


async def list_workspaces(engine: AsyncEngine) -> list[Workspace]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(tables.workspaces))).mappings().all()
    return [_workspace(row) for row in rows]


# -- api keys -----------------------------------------------------------------------


async def insert_key(engine: AsyncEngine, key: ApiKey) -> ApiKey:
    try:
        async with engine.begin() as conn:
            values = asdict(key)
            if key.allowed_models is not None:
                values["allowed_models"] = list(key.allowed_models)
            await conn.execute(insert(tables.api_keys).values(**values))
            await _bump(conn)
    except IntegrityError as exc:
        raise DuplicateError("that key already exists") from exc
    return key


async def get_key_by_hash(engine: AsyncEngine, key_hash: str) -> ApiKey | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(tables.api_keys).where(tables.api_keys.c.key_hash == key_hash))
        ).first()
    return _key(row._mapping) if row else None


async def find_active_key(engine: AsyncEngine, key_hash: str) -> ApiKey | None:
    """The key with this hash if the catalog would route it: not revoked, its workspace there."""
    keys, workspaces = tables.api_keys, tables.workspaces
    query = (
        select(keys)
        .join(workspaces, workspaces.c.id == keys.c.workspace_id)
        .where((keys.c.key_hash == key_hash) & keys.c.revoked_at.is_(None))
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return _key(row._mapping) if row else None


async def list_keys(engine: AsyncEngine, workspace_id: str | None = None) -> list[ApiKey]:
    query = select(tables.api_keys).order_by(tables.api_keys.c.created_at)
    if workspace_id is not None:
        query = query.where(tables.api_keys.c.workspace_id == workspace_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [_key(row) for row in rows]


async def revoke_key(engine: AsyncEngine, workspace_id: str, key_id: str) -> ApiKey | None:
    table = tables.api_keys
    async with engine.begin() as conn:
        where = in_workspace(table, workspace_id, key_id)
        row = (await conn.execute(select(table).where(where))).first()
        if row is None:
            return None
        if row._mapping["revoked_at"] is None:
            await conn.execute(update(table).where(where).values(revoked_at=utcnow()))
            await _bump(conn)
        row = (await conn.execute(select(table).where(where))).first()
    return _key(row._mapping) if row else None


async def set_key_access(
    engine: AsyncEngine, workspace_id: str, key_id: str, fields: dict[str, Any]
) -> ApiKey | None:
    """Change a key's ``expires_at`` and/or ``allowed_models`` (a list of router ids, or None)."""
    table = tables.api_keys
    where = in_workspace(table, workspace_id, key_id)
    async with engine.begin() as conn:
        if fields:
            result = await conn.execute(update(table).where(where).values(**fields))
            if result.rowcount:
                await _bump(conn)
        row = (await conn.execute(select(table).where(where))).first()
    return _key(row._mapping) if row else None


async def record_key_use(engine: AsyncEngine, last_used: dict[str, datetime]) -> None:
    """Store last-use times gathered off the hot path; does not invalidate the catalog."""
    if not last_used:
        return
    table = tables.api_keys
    async with engine.begin() as conn:
        for key_id, when in last_used.items():
            await conn.execute(update(table).where(table.c.id == key_id).values(last_used_at=when))


# -- models -------------------------------------------------------------------------


async def insert_model(engine: AsyncEngine, model: Model) -> Model:
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(tables.models).values(**asdict(model)))
            await _bump(conn)
    except IntegrityError as exc:
        raise DuplicateError(f"a model with router id {model.router_id!r} already exists") from exc
    return model


async def replace_model(engine: AsyncEngine, model: Model) -> Model:
    table = tables.models
    values: dict[str, Any] = asdict(model)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(table)
                .where((table.c.id == model.id) & (table.c.workspace_id == model.workspace_id))
                .values(**values)
            )
            await _bump(conn)
    except IntegrityError as exc:
        raise DuplicateError(f"a model with router id {model.router_id!r} already exists") from exc
    return model


async def get_model(engine: AsyncEngine, workspace_id: str, model_id: str) -> Model | None:
    row = await fetch_in_workspace(engine, tables.models, workspace_id, model_id)
    return _model(row) if row else None


async def find_enabled_model(engine: AsyncEngine, workspace_id: str, router_id: str) -> Model | None:
    """The workspace's model with this router id if the catalog would route it (enabled)."""
    table = tables.models
    query = select(table).where(
        (table.c.workspace_id == workspace_id) & (table.c.router_id == router_id) & table.c.enabled
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return _model(row._mapping) if row else None


async def list_models(engine: AsyncEngine, workspace_id: str | None = None) -> list[Model]:
    query = select(tables.models).order_by(tables.models.c.created_at)
    if workspace_id is not None:
        query = query.where(tables.models.c.workspace_id == workspace_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [_model(row) for row in rows]


async def delete_model(engine: AsyncEngine, workspace_id: str, model_id: str) -> bool:
    table = tables.models
    async with engine.begin() as conn:
        result = await conn.execute(delete(table).where(in_workspace(table, workspace_id, model_id)))
        if result.rowcount:
            await _bump(conn)
    return bool(result.rowcount)


async def reseal_model_key(
    engine: AsyncEngine, model_id: str, old_ciphertext: bytes, key_id: str, ciphertext: bytes
) -> bool:
    """Replace a model's sealed API key if it is still ``old_ciphertext`` (master-key rotation)."""
    table = tables.models
    async with engine.begin() as conn:
        result = await conn.execute(
            update(table)
            .where((table.c.id == model_id) & (table.c.api_key_ciphertext == old_ciphertext))
            .values(api_key_ciphertext=ciphertext, api_key_key_id=key_id)
        )
        if result.rowcount:
            await _bump(conn)
    return bool(result.rowcount)
