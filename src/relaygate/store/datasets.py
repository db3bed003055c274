"""Datasets and their datapoints in the store; the recorded chat calls a dataset is made from.

Every read and write is scoped to one workspace: another workspace's dataset or
datapoint matches nothing, exactly like an unknown id. Datasets are not part of the
catalog (the data plane never reads them), so writes do not bump its version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from relaygate.deployments.ids import new_ulid
from relaygate.evaluators.kinds import EVALUATOR_CALL_PREFIX
from relaygate.experiments.definition import EXPERIMENT_CALL_PREFIX
from relaygate.store import tables
from relaygate.store.id_pages import PageRequest, page_of, paged
from relaygate.store.records import utcnow
from relaygate.store.repository import aware
from relaygate.store.usage_reports import UsageFilter

DATASETS = tables.datasets
DATAPOINTS = tables.dataset_datapoints
EVENTS = tables.usage_events
DATAPOINT_FIELDS = ("inputs", "messages", "expected_output")
_COUNT = (
    select(func.count())
    .select_from(DATAPOINTS)
    .where(DATAPOINTS.c.dataset_id == DATASETS.c.id)
    .scalar_subquery()
    .label("datapoints_count")
)


@dataclass(frozen=True)
class Dataset:
    id: str
    workspace_id: str
    display_name: str
    path: str | None
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    datapoints_count: int


@dataclass(frozen=True)
class StoredDatapoint:
    id: str
    dataset_id: str
    workspace_id: str
    inputs: dict[str, Any] | None
    messages: list[Any] | None
    expected_output: str | None
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime

    def fields(self) -> dict[str, Any]:
        """The datapoint's own fields that have a value (what an export writes)."""
        values = {"inputs": self.inputs, "messages": self.messages, "expected_output": self.expected_output}
        return {name: value for name, value in values.items() if value is not None}


def _dataset(row: Mapping[Any, Any]) -> Dataset:
    values = {name: row[name] for name in Dataset.__dataclass_fields__}
    values["created_at"], values["updated_at"] = aware(row["created_at"]), aware(row["updated_at"])
    return Dataset(**values)


def _datapoint(row: Mapping[Any, Any]) -> StoredDatapoint:
    values = {name: row[name] for name in StoredDatapoint.__dataclass_fields__}
    values["created_at"], values["updated_at"] = aware(row["created_at"]), aware(row["updated_at"])
    return StoredDatapoint(**values)


def _dataset_in(workspace_id: str, dataset_id: str) -> ColumnElement[bool]:
    return (DATASETS.c.id == dataset_id) & (DATASETS.c.workspace_id == workspace_id)


def _datapoints_of(workspace_id: str, dataset_id: str) -> ColumnElement[bool]:
    return (DATAPOINTS.c.dataset_id == dataset_id) & (DATAPOINTS.c.workspace_id == workspace_id)


async def _touch(conn: AsyncConnection, workspace_id: str, dataset_id: str, by: str) -> bool:
    """Mark the dataset changed by ``by``; False when the workspace has no such dataset."""
    result = await conn.execute(
        update(DATASETS)
        .where(_dataset_in(workspace_id, dataset_id))
        .values(updated_at=utcnow(), updated_by=by)
    )
    return bool(result.rowcount)


# -- datasets -------------------------------------------------------------------------


async def get_dataset(engine: AsyncEngine, workspace_id: str, dataset_id: str) -> Dataset | None:
    query = select(DATASETS, _COUNT).where(_dataset_in(workspace_id, dataset_id))
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return _dataset(row) if row else None


async def create_dataset(
    engine: AsyncEngine, workspace_id: str, display_name: str, path: str | None, by: str
) -> Dataset:
    now = utcnow()
    dataset_id = new_ulid()
    values: dict[str, Any] = {
        "id": dataset_id,
        "workspace_id": workspace_id,
        "display_name": display_name,
        "path": path,
    }
    async with engine.begin() as conn:
        await conn.execute(
            insert(DATASETS).values(**values, created_by=by, updated_by=by, created_at=now, updated_at=now)
        )
    return Dataset(**values, created_by=by, updated_by=by, created_at=now, updated_at=now, datapoints_count=0)


async def list_datasets(
    engine: AsyncEngine,
    workspace_id: str,
    page: PageRequest,
    *,
    search: str | None = None,
    updated_by: str | None = None,
) -> tuple[list[Dataset], bool]:
    query = select(DATASETS, _COUNT).where(DATASETS.c.workspace_id == workspace_id)
    if search:
        query = query.where(func.lower(DATASETS.c.display_name).contains(search.lower(), autoescape=True))
    if updated_by:
        query = query.where(DATASETS.c.updated_by == updated_by)
    async with engine.connect() as conn:
        rows = (await conn.execute(paged(query, DATASETS.c.id, page))).mappings().all()
    kept, more = page_of(rows, page)
    return [_dataset(row) for row in kept], more


async def update_dataset(
    engine: AsyncEngine, workspace_id: str, dataset_id: str, changes: dict[str, Any], by: str
) -> Dataset | None:
    async with engine.begin() as conn:
        await conn.execute(
            update(DATASETS)
            .where(_dataset_in(workspace_id, dataset_id))
            .values(**changes, updated_by=by, updated_at=utcnow())
        )
    return await get_dataset(engine, workspace_id, dataset_id)


async def delete_dataset(engine: AsyncEngine, workspace_id: str, dataset_id: str) -> bool:
    """The dataset and its datapoints; False when the workspace has no such dataset."""
    async with engine.begin() as conn:
        await conn.execute(delete(DATAPOINTS).where(_datapoints_of(workspace_id, dataset_id)))
        result = await conn.execute(delete(DATASETS).where(_dataset_in(workspace_id, dataset_id)))
    return bool(result.rowcount)


async def clear_dataset(engine: AsyncEngine, workspace_id: str, dataset_id: str, by: str) -> bool:
    async with engine.begin() as conn:
        if not await _touch(conn, workspace_id, dataset_id, by):
            return False
        await conn.execute(delete(DATAPOINTS).where(_datapoints_of(workspace_id, dataset_id)))
    return True


# -- datapoints -----------------------------------------------------------------------


def _new_rows(
    workspace_id: str, dataset_id: str, datapoints: Iterable[dict[str, Any]], by: str
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "id": new_ulid(),
            "dataset_id": dataset_id,
            "workspace_id": workspace_id,
            **{name: datapoint.get(name) for name in DATAPOINT_FIELDS},
            "created_by": by,
            "updated_by": by,
            "created_at": now,
            "updated_at": now,
        }
        for datapoint in datapoints
    ]


async def add_datapoints(
    engine: AsyncEngine, workspace_id: str, dataset_id: str, datapoints: Sequence[dict[str, Any]], by: str
) -> list[StoredDatapoint] | None:
    """The datapoints, stored in one transaction; None when the workspace has no such dataset."""
    rows = _new_rows(workspace_id, dataset_id, datapoints, by)
    async with engine.begin() as conn:
        if not await _touch(conn, workspace_id, dataset_id, by):
            return None
        if rows:
            await conn.execute(insert(DATAPOINTS), rows)
    return [_datapoint(row) for row in rows]


async def add_datapoint_batches(
    engine: AsyncEngine, workspace_id: str, dataset_id: str, batches: Iterable[list[dict[str, Any]]], by: str
) -> int | None:
    """Every batch stored in one transaction (all or nothing); how many datapoints, or None
    when the workspace has no such dataset."""
    count = 0
    async with engine.begin() as conn:
        if not await _touch(conn, workspace_id, dataset_id, by):
            return None
        for batch in batches:
            await conn.execute(insert(DATAPOINTS), _new_rows(workspace_id, dataset_id, batch, by))
            count += len(batch)
    return count


async def list_datapoints(
    engine: AsyncEngine, workspace_id: str, dataset_id: str, page: PageRequest
) -> tuple[list[StoredDatapoint], bool]:
    query = select(DATAPOINTS).where(_datapoints_of(workspace_id, dataset_id))
    async with engine.connect() as conn:
        rows = (await conn.execute(paged(query, DATAPOINTS.c.id, page))).mappings().all()
    kept, more = page_of(rows, page)
    return [_datapoint(row) for row in kept], more


async def get_datapoint(
    engine: AsyncEngine, workspace_id: str, dataset_id: str, datapoint_id: str
) -> StoredDatapoint | None:
    query = select(DATAPOINTS).where(
        _datapoints_of(workspace_id, dataset_id) & (DATAPOINTS.c.id == datapoint_id)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return _datapoint(row) if row else None


async def update_datapoint(
    engine: AsyncEngine,
    workspace_id: str,
    dataset_id: str,
    datapoint_id: str,
    changes: dict[str, Any],
    by: str,
) -> StoredDatapoint | None:
    where = _datapoints_of(workspace_id, dataset_id) & (DATAPOINTS.c.id == datapoint_id)
    async with engine.begin() as conn:
        result = await conn.execute(
            update(DATAPOINTS).where(where).values(**changes, updated_by=by, updated_at=utcnow())
        )
        if result.rowcount:
            await _touch(conn, workspace_id, dataset_id, by)
    return await get_datapoint(engine, workspace_id, dataset_id, datapoint_id)


async def delete_datapoints(
    engine: AsyncEngine, workspace_id: str, dataset_id: str, datapoint_ids: Sequence[str], by: str
) -> int | None:
    """How many of the datapoints were deleted; None when the workspace has no such dataset."""
    where = _datapoints_of(workspace_id, dataset_id) & DATAPOINTS.c.id.in_(datapoint_ids)
    async with engine.begin() as conn:
        if not await _touch(conn, workspace_id, dataset_id, by):
            return None
        result = await conn.execute(delete(DATAPOINTS).where(where))
    return int(result.rowcount)


async def datapoint_batches(
    engine: AsyncEngine, workspace_id: str, dataset_id: str, size: int = 500
) -> AsyncIterator[list[StoredDatapoint]]:
    """Every datapoint of the dataset in creation order, a batch (one query) at a time."""
    page = PageRequest(size, newest_first=False)
    while True:
        batch, more = await list_datapoints(engine, workspace_id, dataset_id, page)
        if batch:
            yield batch
        if not more:
            return
        page = PageRequest(size, starting_after=batch[-1].id, newest_first=False)


# -- from traffic ---------------------------------------------------------------------


async def recorded_chat_calls(
    engine: AsyncEngine, where: UsageFilter, status: int, limit: int
) -> list[tuple[str | None, str | None]]:
    """(request body, answer body) of the newest router chat calls the filter selects; an
    evaluator's own model calls (named ``evaluator:<key>``) and an experiment's
    (``experiment:<id>``) are not traffic."""
    own_calls = EVENTS.c.name.is_(None) | (
        EVENTS.c.name.not_like(f"{EVALUATOR_CALL_PREFIX}%")
        & EVENTS.c.name.not_like(f"{EXPERIMENT_CALL_PREFIX}%")
    )
    query = (
        select(EVENTS.c.request_body, EVENTS.c.response_body)
        .where(
            where.where()
            & (EVENTS.c.endpoint == "chat.completions")
            & (EVENTS.c.status == status)
            & own_calls
        )
        .order_by(EVENTS.c.created_at.desc(), EVENTS.c.id.desc())
        .limit(limit)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [(row.request_body, row.response_body) for row in rows]
