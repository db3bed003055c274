"""Experiments in the store: their definition, status, counters, and the run's lease.

Every read and write the API makes is scoped to one workspace: another workspace's
experiment matches nothing, exactly like an unknown id. Status changes are conditional
updates (``WHERE status IN (...)``), so two callers racing cannot both win.

The lease: exactly one process runs a running experiment. It takes the row with a
conditional UPDATE (the experiment is running and nobody holds it, or the holder's lease
ran out), renews it while it runs, and gives it back when it stops. The counters (done,
failed, spend, seq) change in the same transaction as the item that moves them
(``experiment_items.finish``), so they always agree with the items.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from relaygate.deployments.ids import new_ulid
from relaygate.experiments.definition import HALTABLE, PAUSABLE, RESUMABLE, Status
from relaygate.store import tables
from relaygate.store.id_pages import PageRequest, page_of, paged
from relaygate.store.records import utcnow
from relaygate.store.repository import aware

EXPERIMENTS = tables.experiments
ITEMS = tables.experiment_items
DATAPOINTS = tables.dataset_datapoints
KEYS = tables.api_keys
_TIMES = ("created_at", "updated_at", "started_at", "finished_at", "lease_expires_at")


@dataclass(frozen=True)
class StoredExperiment:
    id: str
    workspace_id: str
    name: str
    dataset_id: str
    targets: list[dict[str, Any]]
    evaluators: list[dict[str, Any]]
    parameters: dict[str, Any] | None
    concurrency: int
    budget_nano: int | None
    status: Status
    error: str | None
    total: int
    done: int
    failed: int
    spend_nano: int
    seq: int
    owner: str | None
    lease_expires_at: datetime | None
    created_by: str
    run_by: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed


class EmptyDataset(Exception):
    """The dataset is gone, or has no datapoints: there is nothing to run."""


def _experiment(row: Mapping[Any, Any]) -> StoredExperiment:
    values = {name: row[name] for name in StoredExperiment.__dataclass_fields__}
    for name in _TIMES:
        values[name] = aware(row[name])
    return StoredExperiment(**values)


def _in_workspace(workspace_id: str, experiment_id: str) -> ColumnElement[bool]:
    return (EXPERIMENTS.c.id == experiment_id) & (EXPERIMENTS.c.workspace_id == workspace_id)


async def _read(conn: AsyncConnection, where: ColumnElement[bool]) -> StoredExperiment | None:
    row = (await conn.execute(select(EXPERIMENTS).where(where))).mappings().first()
    return _experiment(row) if row else None


# -- the API's reads and writes ------------------------------------------------------------


async def create_experiment(
    engine: AsyncEngine, workspace_id: str, definition: dict[str, Any], by: str
) -> str:
    """A draft experiment of ``definition`` (name, dataset_id, targets, evaluators,
    parameters, concurrency, budget_nano, all checked by the caller); its id."""
    now = utcnow()
    experiment_id = new_ulid()
    async with engine.begin() as conn:
        await conn.execute(
            insert(EXPERIMENTS).values(
                **definition,
                id=experiment_id,
                workspace_id=workspace_id,
                status="draft",
                total=0,
                done=0,
                failed=0,
                spend_nano=0,
                seq=0,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
        )
    return experiment_id


async def get_experiment(
    engine: AsyncEngine, workspace_id: str, experiment_id: str
) -> StoredExperiment | None:
    async with engine.connect() as conn:
        return await _read(conn, _in_workspace(workspace_id, experiment_id))


async def list_experiments(
    engine: AsyncEngine, workspace_id: str, page: PageRequest
) -> tuple[list[StoredExperiment], bool]:
    query: Select[Any] = select(EXPERIMENTS).where(EXPERIMENTS.c.workspace_id == workspace_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(paged(query, EXPERIMENTS.c.id, page))).mappings().all()
    kept, more = page_of(rows, page)
    return [_experiment(row) for row in kept], more


async def delete_experiment(engine: AsyncEngine, workspace_id: str, experiment_id: str) -> bool:
    """The experiment and its results; False when the workspace has no such experiment."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(EXPERIMENTS).where(_in_workspace(workspace_id, experiment_id)))
        if result.rowcount:
            await conn.execute(delete(ITEMS).where(ITEMS.c.experiment_id == experiment_id))
    return bool(result.rowcount)


async def start_experiment(
    engine: AsyncEngine, experiment: StoredExperiment, by: str
) -> StoredExperiment | None:
    """A draft made running, with one pending item per datapoint x target (the dataset as it
    is now); None when it is no longer a draft. ``EmptyDataset`` when nothing would run."""
    now = utcnow()
    where = _in_workspace(experiment.workspace_id, experiment.id) & (EXPERIMENTS.c.status == "draft")
    async with engine.begin() as conn:
        started = await conn.execute(
            update(EXPERIMENTS)
            .where(where)
            .values(status="running", started_at=now, updated_at=now, run_by=by, owner=None)
        )
        if not started.rowcount:
            return None
        datapoints = (DATAPOINTS.c.dataset_id == experiment.dataset_id) & (
            DATAPOINTS.c.workspace_id == experiment.workspace_id
        )
        count = int(await conn.scalar(select(func.count()).select_from(DATAPOINTS).where(datapoints)) or 0)
        if count == 0:
            raise EmptyDataset(experiment.dataset_id)  # the transaction rolls back: still a draft
        per_target: list[Select[Any]] = [
            select(literal_column(str(index)).label("target")) for index in range(len(experiment.targets))
        ]
        targets = (union_all(*per_target) if len(per_target) > 1 else per_target[0]).subquery("targets")
        plan = (
            select(
                literal(experiment.id),
                DATAPOINTS.c.id,
                targets.c.target,
                literal("pending"),
                literal(0),
                literal(0),
            )
            .select_from(DATAPOINTS.join(targets, true()))
            .where(datapoints)
        )  # each datapoint x each target
        columns = ["experiment_id", "datapoint_id", "target", "status", "cost_nano", "eval_cost_nano"]
        await conn.execute(insert(ITEMS).from_select(columns, plan))
        total = count * len(experiment.targets)
        await conn.execute(update(EXPERIMENTS).where(EXPERIMENTS.c.id == experiment.id).values(total=total))
        return await _read(conn, EXPERIMENTS.c.id == experiment.id)


async def change_status(
    engine: AsyncEngine,
    workspace_id: str,
    experiment_id: str,
    to: Status,
    allowed_from: Collection[Status],
    **changes: Any,
) -> StoredExperiment | None:
    """The experiment moved to ``to`` if its status is one of ``allowed_from``; None if not."""
    now = utcnow()
    where = _in_workspace(workspace_id, experiment_id) & EXPERIMENTS.c.status.in_(list(allowed_from))
    finished = {"finished_at": now} if to not in ("running", "draft") else {"finished_at": None}
    async with engine.begin() as conn:
        result = await conn.execute(
            update(EXPERIMENTS).where(where).values(status=to, updated_at=now, **finished, **changes)
        )
        if not result.rowcount:
            return None
        return await _read(conn, EXPERIMENTS.c.id == experiment_id)


async def pause(engine: AsyncEngine, workspace_id: str, experiment_id: str) -> StoredExperiment | None:
    return await change_status(engine, workspace_id, experiment_id, "paused", PAUSABLE)


async def cancel(engine: AsyncEngine, workspace_id: str, experiment_id: str) -> StoredExperiment | None:
    return await change_status(engine, workspace_id, experiment_id, "cancelled", HALTABLE)


async def resume(
    engine: AsyncEngine,
    workspace_id: str,
    experiment_id: str,
    by: str,
    budget_nano: int | None,
    retry_failed: bool = False,
) -> StoredExperiment | None:
    """Running again, free for any process to take (the run skips every finished item).

    With ``retry_failed`` the items whose answer could not be generated are pending again
    (a completed experiment may be resumed so); their spend stays spent.
    """
    allowed = (*RESUMABLE, "completed") if retry_failed else RESUMABLE
    where = _in_workspace(workspace_id, experiment_id) & EXPERIMENTS.c.status.in_(allowed)
    now = utcnow()
    async with engine.begin() as conn:
        again = 0
        if retry_failed:
            failed_items = (ITEMS.c.experiment_id == experiment_id) & (ITEMS.c.status == "failed")
            owned = select(EXPERIMENTS.c.id).where(where).scalar_subquery()
            again = (
                await conn.execute(
                    update(ITEMS)
                    .where(failed_items & (ITEMS.c.experiment_id == owned))
                    .values(status="pending", finished_at=None)
                )
            ).rowcount
        result = await conn.execute(
            update(EXPERIMENTS)
            .where(where)
            .values(
                status="running",
                updated_at=now,
                finished_at=None,
                failed=EXPERIMENTS.c.failed - again,
                run_by=by,
                budget_nano=budget_nano,
                error=None,
                owner=None,
                lease_expires_at=None,
            )
        )
        if not result.rowcount:
            return None
        return await _read(conn, EXPERIMENTS.c.id == experiment_id)


async def key_is_active(engine: AsyncEngine, workspace_id: str, key_id: str) -> bool:
    """Whether the api key still exists in the workspace and is not revoked (a run's calls are its)."""
    query = select(KEYS.c.id).where(
        (KEYS.c.id == key_id) & (KEYS.c.workspace_id == workspace_id) & KEYS.c.revoked_at.is_(None)
    )
    async with engine.connect() as conn:
        return await conn.scalar(query) is not None


# -- the lease ---------------------------------------------------------------------------------


def _free(now: datetime) -> ColumnElement[bool]:
    return (EXPERIMENTS.c.status == "running") & (
        EXPERIMENTS.c.owner.is_(None) | (EXPERIMENTS.c.lease_expires_at < now)
    )


async def runs_to_take(engine: AsyncEngine, limit: int = 100) -> list[str]:
    """Running experiments nobody holds (new, resumed, or whose process died)."""
    query = select(EXPERIMENTS.c.id).where(_free(utcnow())).order_by(EXPERIMENTS.c.id).limit(limit)
    async with engine.connect() as conn:
        return list((await conn.scalars(query)).all())


async def take_lease(
    engine: AsyncEngine, experiment_id: str, owner: str, lease: timedelta
) -> StoredExperiment | None:
    """The experiment, now held by ``owner``; None when it is not running or someone holds it."""
    now = utcnow()
    where = (EXPERIMENTS.c.id == experiment_id) & _free(now)
    async with engine.begin() as conn:
        result = await conn.execute(
            update(EXPERIMENTS).where(where).values(owner=owner, lease_expires_at=now + lease)
        )
        if not result.rowcount:
            return None
        return await _read(conn, EXPERIMENTS.c.id == experiment_id)


@dataclass(frozen=True)
class LeaseState:
    held: bool  # still ours (renewed)
    status: Status | None  # None: the experiment was deleted


async def renew_lease(engine: AsyncEngine, experiment_id: str, owner: str, lease: timedelta) -> LeaseState:
    """The lease and the owner's item claims extended; what the experiment's row says now."""
    until = utcnow() + lease
    async with engine.begin() as conn:
        mine = (EXPERIMENTS.c.id == experiment_id) & (EXPERIMENTS.c.owner == owner)
        renewed = await conn.execute(update(EXPERIMENTS).where(mine).values(lease_expires_at=until))
        claims = (ITEMS.c.experiment_id == experiment_id) & (ITEMS.c.owner == owner)
        await conn.execute(
            update(ITEMS).where(claims & (ITEMS.c.status == "claimed")).values(lease_expires_at=until)
        )
        status = await conn.scalar(select(EXPERIMENTS.c.status).where(EXPERIMENTS.c.id == experiment_id))
    return LeaseState(bool(renewed.rowcount), status)


async def end_run(
    engine: AsyncEngine,
    experiment_id: str,
    owner: str,
    status: Status | None = None,
    error: str | None = None,
) -> bool:
    """The lease given back; with ``status`` (completed, budget_reached, failed), the run's
    end too, if the experiment is still running. Whether the lease was still ``owner``'s."""
    mine = (EXPERIMENTS.c.id == experiment_id) & (EXPERIMENTS.c.owner == owner)
    released: dict[str, Any] = {"owner": None, "lease_expires_at": None}
    async with engine.begin() as conn:
        if status is not None:
            now = utcnow()
            ended = await conn.execute(
                update(EXPERIMENTS)
                .where(mine & (EXPERIMENTS.c.status == "running"))
                .values(**released, status=status, error=error, finished_at=now, updated_at=now)
            )
            if ended.rowcount:
                return True
        result = await conn.execute(update(EXPERIMENTS).where(mine).values(**released))
    return bool(result.rowcount)
