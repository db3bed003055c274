"""Analytics over stored usage events: totals, time series and raw pages, per workspace.

Aggregation runs in the database (SQLite or PostgreSQL) on integer nano-USD, so sums of
cost are exact; USD numbers are made only when answering. Every query is scoped to one
workspace by construction (``UsageFilter.workspace_id`` is required).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement as Column

from relaygate.store import tables
from relaygate.usage.pricing import nano_to_usd

EVENTS = tables.usage_events
GROUPS: dict[str, Column[Any]] = {
    "model": EVENTS.c.router_model,
    "api_key": EVENTS.c.api_key_id,
    "identity": EVENTS.c.identity_id,
    "endpoint": EVENTS.c.endpoint,
    "status": EVENTS.c.status,
    # Calls made through a deployment; the rest fall in the group without a value.
    "deployment": EVENTS.c.deployment_key,
    "deployment_version": EVENTS.c.deployment_version,
    "variant": EVENTS.c.variant,
}
_SQLITE_BUCKET = {"hour": "%Y-%m-%dT%H:00:00Z", "day": "%Y-%m-%dT00:00:00Z"}
_POSTGRES_BUCKET = {"hour": 'YYYY-MM-DD"T"HH24:00:00"Z"', "day": 'YYYY-MM-DD"T"00:00:00"Z"'}


class BadCursor(ValueError):
    """The cursor was not made by this server."""


@dataclass(frozen=True)
class UsageFilter:
    workspace_id: str
    start: datetime
    end: datetime
    model: str | None = None
    api_key_id: str | None = None
    identity_id: str | None = None
    deployment_key: str | None = None
    deployment_version: int | None = None
    variant: str | None = None

    def where(self) -> ColumnElement[bool]:
        clauses = [
            EVENTS.c.workspace_id == self.workspace_id,
            EVENTS.c.created_at >= self.start,
            EVENTS.c.created_at < self.end,
        ]
        if self.model is not None:
            clauses.append(EVENTS.c.router_model == self.model)
        if self.api_key_id is not None:
            clauses.append(EVENTS.c.api_key_id == self.api_key_id)
        if self.identity_id is not None:
            clauses.append(EVENTS.c.identity_id == self.identity_id)
        if self.deployment_key is not None:
            clauses.append(EVENTS.c.deployment_key == self.deployment_key)
        if self.deployment_version is not None:
            clauses.append(EVENTS.c.deployment_version == self.deployment_version)
        if self.variant is not None:
            clauses.append(EVENTS.c.variant == self.variant)
        return and_(*clauses)


def _measures() -> list[Any]:
    is_error = case((or_(EVENTS.c.status >= 400, EVENTS.c.status == 0), 1), else_=0)
    return [
        func.count().label("requests"),
        func.coalesce(func.sum(is_error), 0).label("errors"),
        func.coalesce(func.sum(EVENTS.c.prompt_tokens), 0).label("prompt_tokens"),
        func.coalesce(func.sum(EVENTS.c.completion_tokens), 0).label("completion_tokens"),
        func.coalesce(func.sum(EVENTS.c.total_tokens), 0).label("total_tokens"),
        func.coalesce(func.sum(EVENTS.c.cost_nano), 0).label("cost_nano"),
        func.avg(EVENTS.c.latency_ms).label("latency_ms_avg"),
        func.coalesce(func.sum(EVENTS.c.searches), 0).label("searches"),
        func.coalesce(func.sum(EVENTS.c.search_cost_nano), 0).label("search_cost_nano"),
    ]


def _figures(row: Any) -> dict[str, Any]:
    cost_nano = int(row.cost_nano or 0)
    search_cost_nano = int(row.search_cost_nano or 0)
    latency = row.latency_ms_avg
    return {
        "requests": int(row.requests or 0),
        "errors": int(row.errors or 0),
        "prompt_tokens": int(row.prompt_tokens or 0),
        "completion_tokens": int(row.completion_tokens or 0),
        "total_tokens": int(row.total_tokens or 0),
        "cost": float(nano_to_usd(cost_nano)),
        "cost_nano": cost_nano,
        "latency_ms_avg": round(float(latency), 3) if latency is not None else None,
        # Web searches relaygate ran; their cost is part of ``cost``.
        "searches": int(row.searches or 0),
        "search_cost": float(nano_to_usd(search_cost_nano)),
        "search_cost_nano": search_cost_nano,
    }


def _bucket(dialect: str, interval: str) -> Column[Any]:
    if dialect == "postgresql":
        utc = func.timezone("UTC", EVENTS.c.created_at)
        return func.to_char(func.date_trunc(interval, utc), _POSTGRES_BUCKET[interval])
    return func.strftime(_SQLITE_BUCKET[interval], EVENTS.c.created_at)


async def usage_report(
    engine: AsyncEngine, where: UsageFilter, interval: str, group_by: str | None
) -> dict[str, Any]:
    bucket = _bucket(engine.dialect.name, interval).label("bucket")
    group = GROUPS[group_by] if group_by else None
    columns: list[Any] = [bucket, *([group.label("grp")] if group is not None else []), *_measures()]
    series_query = select(*columns).where(where.where()).group_by(*columns[: 2 if group is not None else 1])
    async with engine.connect() as conn:
        totals = (await conn.execute(select(*_measures()).where(where.where()))).one()
        rows = (await conn.execute(series_query.order_by(bucket))).all()
    series = [
        {
            "bucket": row.bucket,
            "group": (str(row.grp) if row.grp is not None else None) if group is not None else None,
            **_figures(row),
        }
        for row in rows
    ]
    return {
        "object": "usage",
        "from": iso(where.start),
        "to": iso(where.end),
        "interval": interval,
        "group_by": group_by,
        "totals": _figures(totals),
        "series": series,
    }


# -- raw events ---------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def encode_cursor(created_at: datetime, event_id: str) -> str:
    raw = f"{aware(created_at).isoformat()}|{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, event_id = raw.split("|", 1)
        return aware(datetime.fromisoformat(moment)).astimezone(UTC), event_id
    except (ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise BadCursor("cursor is not valid; use next_cursor from the previous page") from exc


def event_object(row: Any) -> dict[str, Any]:
    """One event; a value it lacks is None: omitted from JSON (``UsageEvent``), an empty CSV cell."""
    return {
        "id": row.id,
        "object": "usage.event",
        "created": int(aware(row.created_at).timestamp()),
        "created_at": iso(aware(row.created_at)),
        "request_id": row.request_id,
        "router_model": row.router_model,
        "upstream_model": row.upstream_model,
        "endpoint": row.endpoint,
        "status": row.status,
        "error_code": row.error_code,
        "stream": bool(row.stream),
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "total_tokens": row.total_tokens,
        "cached_tokens": row.cached_tokens,
        "reasoning_tokens": row.reasoning_tokens,
        "images": row.images,
        "audio_seconds": row.audio_seconds,
        "audio_characters": row.audio_characters,
        "estimated": bool(row.estimated),
        "cost": float(nano_to_usd(row.cost_nano)),
        "cost_nano": row.cost_nano,
        "prices": {"input": row.input_price, "output": row.output_price, "image": row.image_price},
        "latency_ms": round(row.latency_ms, 3),
        "ttfb_ms": None if row.ttfb_ms is None else round(row.ttfb_ms, 3),
        "overhead_ms": None if row.overhead_ms is None else round(row.overhead_ms, 3),
        "attempts": row.attempts,
        "searches": row.searches,
        "search_cost": float(nano_to_usd(row.search_cost_nano)),
        "search_cost_nano": row.search_cost_nano,
        "search_ms": None if row.search_ms is None else round(row.search_ms, 3),
        "fallback_used": bool(row.fallback_used),
        "cache_hit": bool(row.cache_hit),
        "api_key_id": row.api_key_id,
        "identity_id": row.identity_id,
        "thread_id": row.thread_id,
        "thread_tags": row.thread_tags,
        "name": row.name,
        "metadata": row.request_metadata,
        "deployment_key": row.deployment_key,
        "deployment_version": row.deployment_version,
        "variant": row.variant,
        "documents": row.documents,
        "request_body": row.request_body,  # None unless body logging is on (RELAYGATE_LOG_BODIES)
        "response_body": row.response_body,
    }


async def events_page(
    engine: AsyncEngine, where: UsageFilter, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page, newest first; ``next_cursor`` is None on the last page."""
    query = select(EVENTS).where(where.where())
    if cursor is not None:
        moment, event_id = decode_cursor(cursor)
        query = query.where(
            or_(
                EVENTS.c.created_at < moment,
                and_(EVENTS.c.created_at == moment, EVENTS.c.id < event_id),
            )
        )
    query = query.order_by(EVENTS.c.created_at.desc(), EVENTS.c.id.desc()).limit(limit + 1)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return [event_object(row) for row in rows], next_cursor
