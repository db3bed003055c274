"""Model health in the store: each process's per-minute tallies of a model's calls (saved
by ``control/model_health.py`` from ``control/health_tally.py``), read back as windows; a
model's periodic health check's setting and lease; the results of its last checks.

A window sums the minutes from its start (whole minutes: a 5 minute window spans 5 to 6
minutes) over every process's rows, so every process sharing the store reads the same.

The health check's lease: the process that runs a model's next check takes the row with
a conditional UPDATE that also moves ``next_run_at`` one interval on, so of several
processes sharing the store exactly one runs each check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import tables
from relaygate.store.records import new_id, utcnow
from relaygate.store.repository import aware

MINUTES = tables.model_health_minutes
SETTINGS = tables.model_health_settings
CHECKS = tables.model_health_checks
KEPT_CHECKS = 50  # results kept per model
KEPT_MINUTES = timedelta(hours=25)  # the longest window and some


def _minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class MinuteRow:
    """One process's tally of one model over one minute (its whole tally so far)."""

    workspace_id: str
    router_model: str
    minute: datetime
    calls: int
    errors: int
    latency: list[int]
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_status: int | None
    last_error_code: str | None


async def save_minutes(engine: AsyncEngine, owner: str, rows: Sequence[MinuteRow]) -> None:
    """Write ``owner``'s minutes (a minute saved before is replaced: only its owner writes it)
    and forget everyone's minutes older than the longest window."""
    async with engine.begin() as conn:
        for row in rows:
            key = and_(
                MINUTES.c.owner == owner,
                MINUTES.c.workspace_id == row.workspace_id,
                MINUTES.c.router_model == row.router_model,
                MINUTES.c.minute == row.minute,
            )
            values: dict[str, Any] = {
                "calls": row.calls,
                "errors": row.errors,
                "latency": row.latency,
                "last_success_at": row.last_success_at,
                "last_error_at": row.last_error_at,
                "last_error_status": row.last_error_status,
                "last_error_code": row.last_error_code,
            }
            if not (await conn.execute(update(MINUTES).where(key).values(**values))).rowcount:
                await conn.execute(
                    insert(MINUTES).values(
                        owner=owner,
                        workspace_id=row.workspace_id,
                        router_model=row.router_model,
                        minute=row.minute,
                        **values,
                    )
                )
        await conn.execute(delete(MINUTES).where(MINUTES.c.minute < _minute_of(utcnow() - KEPT_MINUTES)))


@dataclass(frozen=True, slots=True)
class CallCounts:
    calls: int
    errors: int


async def call_counts(engine: AsyncEngine, workspace_id: str, since: datetime) -> dict[str, CallCounts]:
    """Calls and upstream failures since ``since`` (its minute) per router model of the workspace."""
    query = (
        select(MINUTES.c.router_model, func.sum(MINUTES.c.calls), func.sum(MINUTES.c.errors))
        .where(MINUTES.c.workspace_id == workspace_id, MINUTES.c.minute >= _minute_of(since))
        .group_by(MINUTES.c.router_model)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {str(row[0]): CallCounts(int(row[1] or 0), int(row[2] or 0)) for row in rows}


async def latency_histogram(
    engine: AsyncEngine, workspace_id: str, router_id: str, since: datetime
) -> list[int]:
    """The model's latency histogram since ``since`` (``health_tally.LATENCY_BOUNDS``), summed."""
    query = select(MINUTES.c.latency).where(
        MINUTES.c.workspace_id == workspace_id,
        MINUTES.c.router_model == router_id,
        MINUTES.c.minute >= _minute_of(since),
    )
    total: list[int] = []
    async with engine.connect() as conn:
        for (histogram,) in (await conn.execute(query)).all():
            if len(total) < len(histogram):
                total.extend([0] * (len(histogram) - len(total)))
            for index, count in enumerate(histogram):
                total[index] += int(count)
    return total


@dataclass(frozen=True, slots=True)
class CallOutcome:
    at: datetime
    status: int | None
    error_code: str | None


async def last_call(
    engine: AsyncEngine, workspace_id: str, router_id: str, *, failed: bool, since: datetime
) -> CallOutcome | None:
    """The model's last call answered below 400 (``failed=False``) or last upstream failure."""
    at = MINUTES.c.last_error_at if failed else MINUTES.c.last_success_at
    query = (
        select(at, MINUTES.c.last_error_status, MINUTES.c.last_error_code)
        .where(
            MINUTES.c.workspace_id == workspace_id,
            MINUTES.c.router_model == router_id,
            MINUTES.c.minute >= _minute_of(since),
            at.is_not(None),
        )
        .order_by(at.desc())
        .limit(1)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    moment = aware(row[0])
    assert moment is not None
    return CallOutcome(moment, row[1] if failed else None, row[2] if failed else None)


# -- health check settings and lease -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckSetting:
    model_id: str
    workspace_id: str
    enabled: bool
    interval_seconds: int
    next_run_at: datetime
    last_run_at: datetime | None


def _setting(row: object) -> CheckSetting:
    mapping = row._mapping  # type: ignore[attr-defined]
    next_run = aware(mapping["next_run_at"])
    assert next_run is not None
    return CheckSetting(
        mapping["model_id"],
        mapping["workspace_id"],
        bool(mapping["enabled"]),
        int(mapping["interval_seconds"]),
        next_run,
        aware(mapping["last_run_at"]),
    )


async def check_settings(engine: AsyncEngine, workspace_id: str) -> dict[str, CheckSetting]:
    """The health check settings of the workspace's models, by model id."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(SETTINGS).where(SETTINGS.c.workspace_id == workspace_id))).all()
    return {row.model_id: _setting(row) for row in rows}


async def put_check_setting(
    engine: AsyncEngine, model_id: str, workspace_id: str, *, enabled: bool, interval_seconds: int
) -> CheckSetting:
    """Set the model's health check; an enabled one runs at once (its next run is now)."""
    now = utcnow()
    values = {
        "enabled": enabled,
        "interval_seconds": interval_seconds,
        "next_run_at": now,
        "updated_at": now,
    }
    async with engine.begin() as conn:
        found = await conn.execute(update(SETTINGS).where(SETTINGS.c.model_id == model_id).values(**values))
        if not found.rowcount:
            await conn.execute(
                insert(SETTINGS).values(model_id=model_id, workspace_id=workspace_id, **values)
            )
        row = (await conn.execute(select(SETTINGS).where(SETTINGS.c.model_id == model_id))).one()
    return _setting(row)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        SETTINGS.c.enabled.is_(True),
        SETTINGS.c.next_run_at <= now,
        or_(SETTINGS.c.owner.is_(None), SETTINGS.c.lease_expires_at < now),
    )


async def take_due_checks(
    engine: AsyncEngine, owner: str, lease: timedelta, limit: int = 20
) -> list[tuple[str, str]]:
    """The models (id, workspace id) whose check is due, each now held by ``owner`` with its
    next run one interval on; a model another process took first is left out."""
    now = utcnow()
    query = (
        select(SETTINGS.c.model_id, SETTINGS.c.workspace_id, SETTINGS.c.interval_seconds)
        .where(_due(now))
        .limit(limit)
    )
    taken: list[tuple[str, str]] = []
    async with engine.connect() as conn:
        candidates = (await conn.execute(query)).all()
    for model_id, workspace_id, interval in candidates:
        async with engine.begin() as conn:
            result = await conn.execute(
                update(SETTINGS)
                .where(SETTINGS.c.model_id == model_id, _due(now))
                .values(
                    owner=owner,
                    lease_expires_at=now + lease,
                    next_run_at=now + timedelta(seconds=int(interval)),
                )
            )
        if result.rowcount:
            taken.append((str(model_id), str(workspace_id)))
    return taken


async def release_check(engine: AsyncEngine, model_id: str, owner: str) -> None:
    now = utcnow()
    async with engine.begin() as conn:
        await conn.execute(
            update(SETTINGS)
            .where(SETTINGS.c.model_id == model_id, SETTINGS.c.owner == owner)
            .values(owner=None, lease_expires_at=None, last_run_at=now)
        )


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    id: str
    model_id: str
    at: datetime
    ok: bool
    status: int | None
    latency_ms: float | None
    message: str


async def add_check_result(
    engine: AsyncEngine,
    model_id: str,
    workspace_id: str,
    *,
    ok: bool,
    status: int | None,
    latency_ms: float | None,
    message: str,
    keep: int = KEPT_CHECKS,
) -> CheckResult:
    """Store one result and trim the model's older ones to the last ``keep``."""
    result = CheckResult(new_id(), model_id, utcnow(), ok, status, latency_ms, message)
    async with engine.begin() as conn:
        await conn.execute(
            insert(CHECKS).values(
                id=result.id,
                model_id=model_id,
                workspace_id=workspace_id,
                created_at=result.at,
                ok=ok,
                status=status,
                latency_ms=latency_ms,
                message=message,
            )
        )
        kept = (
            select(CHECKS.c.id)
            .where(CHECKS.c.model_id == model_id)
            .order_by(CHECKS.c.created_at.desc(), CHECKS.c.id.desc())
            .limit(keep)
        )
        kept_ids = list((await conn.scalars(kept)).all())
        await conn.execute(delete(CHECKS).where(CHECKS.c.model_id == model_id, CHECKS.c.id.not_in(kept_ids)))
    return result


def _result(row: object) -> CheckResult:
    mapping = row._mapping  # type: ignore[attr-defined]
    moment = aware(mapping["created_at"])
    assert moment is not None
    return CheckResult(
        mapping["id"],
        mapping["model_id"],
        moment,
        bool(mapping["ok"]),
        mapping["status"],
        mapping["latency_ms"],
        mapping["message"],
    )


async def recent_checks(engine: AsyncEngine, model_id: str, limit: int = KEPT_CHECKS) -> list[CheckResult]:
    """The model's check results, newest first."""
    query = (
        select(CHECKS)
        .where(CHECKS.c.model_id == model_id)
        .order_by(CHECKS.c.created_at.desc(), CHECKS.c.id.desc())
        .limit(limit)
    )
    async with engine.connect() as conn:
        return [_result(row) for row in (await conn.execute(query)).all()]


async def workspace_checks(
    engine: AsyncEngine, workspace_id: str, since: datetime
) -> dict[str, list[CheckResult]]:
    """Every model's check results since ``since``, newest first, by model id."""
    query = (
        select(CHECKS)
        .where(CHECKS.c.workspace_id == workspace_id, CHECKS.c.created_at >= since)
        .order_by(CHECKS.c.created_at.desc(), CHECKS.c.id.desc())
    )
    found: dict[str, list[CheckResult]] = {}
    async with engine.connect() as conn:
        for row in (await conn.execute(query)).all():
            result = _result(row)
            found.setdefault(result.model_id, []).append(result)
    return found


async def workspaces_with_models(engine: AsyncEngine) -> list[str]:
    """Every workspace that has a model (the metrics' health gauge walks them)."""
    query = select(tables.models.c.workspace_id).distinct()
    async with engine.connect() as conn:
        return [str(value) for value in (await conn.scalars(query)).all()]
