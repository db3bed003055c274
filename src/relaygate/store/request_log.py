"""The request log's SQL: router calls as log entries (filtered, keyset pages, one call by
its request id, the newest for the live tail), workspaces' body logging settings, and the
retention sweep that blanks old bodies.

Entries are usage events (``usage_events``) read another way: nothing is written twice.
Every query is scoped to one workspace by construction (``LogFilter.workspace_id``).
Pages go newest first by (created_at, id), the table's own key after the workspace, so a
page costs one range scan and calls recorded meanwhile never shift the next page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.security.redaction import redact
from relaygate.store import tables
from relaygate.store.records import utcnow
from relaygate.store.repository import _bump, aware
from relaygate.store.usage_reports import decode_cursor, encode_cursor, iso
from relaygate.usage.pricing import nano_to_usd

EVENTS = tables.usage_events
KEYS = tables.api_keys
SETTINGS = tables.workspace_logging
DEFAULT_RETENTION_DAYS = 30  # bodies of a workspace that set no retention of its own
# A status filter: an exact code, a class, or the two halves of the log.
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "ok", "error")
UNKNOWN_MODEL_CODES = frozenset({"model_not_found", "model_disabled"})


class BadFilter(ValueError):
    """A filter the log cannot apply; its text names the parameter and what it takes."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def status_clause(value: str) -> ColumnElement[bool]:
    """``status=`` as SQL: ``404``, ``4xx``, ``ok`` (answered, below 400) or ``error``."""
    status = EVENTS.c.status
    word = value.strip().lower()
    if word == "ok":
        return and_(status > 0, status < 400)
    if word == "error":
        return or_(status >= 400, status == 0)
    if len(word) == 3 and word.endswith("xx") and word[0] in "12345":
        low = int(word[0]) * 100
        return and_(status >= low, status < low + 100)
    if word.isdigit() and len(word) == 3:
        return status == int(word)
    raise BadFilter(
        "status",
        f"status must be a 3-digit code (e.g. 429) or one of {', '.join(STATUS_CLASSES)}; "
        f"got {value[:40]!r}.",
    )


@dataclass(frozen=True)
class LogFilter:
    workspace_id: str
    start: datetime | None = None
    end: datetime | None = None
    model: str | None = None  # the model asked for or the one that answered
    api_key_id: str | None = None
    identity_id: str | None = None
    status: str | None = None
    deployment_key: str | None = None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None:
            status_clause(self.status)  # a bad one is refused before any query
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise BadFilter("from", "from must be before to.")

    def where(self) -> ColumnElement[bool]:
        clauses: list[ColumnElement[bool]] = [EVENTS.c.workspace_id == self.workspace_id]
        if self.start is not None:
            clauses.append(EVENTS.c.created_at >= self.start)
        if self.end is not None:
            clauses.append(EVENTS.c.created_at < self.end)
        if self.model is not None:
            clauses.append(or_(EVENTS.c.router_model == self.model, EVENTS.c.requested_model == self.model))
        equal = (
            (EVENTS.c.api_key_id, self.api_key_id),
            (EVENTS.c.identity_id, self.identity_id),
            (EVENTS.c.deployment_key, self.deployment_key),
            (EVENTS.c.request_id, self.request_id),
        )
        clauses += [column == value for column, value in equal if value is not None]
        if self.status is not None:
            clauses.append(status_clause(self.status))
        return and_(*clauses)

    def matches(self, entry: dict[str, Any]) -> bool:
        """The same filter on an entry already read (the live tail's subscribers share one query)."""
        model = entry["model"]
        key = entry["key"]
        checks = (
            self.model is None or self.model in (model["asked"], model["used"]),
            self.api_key_id is None or (key is not None and key["id"] == self.api_key_id),
            self.identity_id is None or entry["identity"] == self.identity_id,
            self.deployment_key is None or (entry["deployment"] or {}).get("key") == self.deployment_key,
            self.request_id is None or entry["request_id"] == self.request_id,
            self.status is None or _status_matches(self.status, entry["status"]),
        )
        return all(checks)


def _status_matches(value: str, status: int) -> bool:
    word = value.strip().lower()
    if word == "ok":
        return 0 < status < 400
    if word == "error":
        return status >= 400 or status == 0
    if word.endswith("xx"):
        return int(word[0]) * 100 <= status < int(word[0]) * 100 + 100
    return status == int(word)


def _query() -> Any:
    joined = EVENTS.outerjoin(KEYS, KEYS.c.id == EVENTS.c.api_key_id)
    return select(EVENTS, KEYS.c.name.label("key_name"), KEYS.c.prefix.label("key_prefix")).select_from(
        joined
    )


# -- entries ------------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _story(row: Any) -> list[dict[str, Any]]:
    """Each attempt of the call: the policy's own record for a routed call; for a plain one,
    its one attempt as the event tells it (none for a cache hit or a call never sent)."""
    if row.attempt_log:
        return [
            {"model": model, "upstream_model": upstream, "status": status or None, "error_code": error,
             "duration_ms": ms, "kind": kind}
            for model, upstream, status, error, ms, kind in row.attempt_log
        ]  # fmt: skip
    if row.cache_hit or row.upstream_model is None or not row.attempts:
        return []
    return [
        {
            "model": row.router_model,
            "upstream_model": row.upstream_model,
            "status": row.status or None,
            "error_code": row.error_code,
            "duration_ms": _round(row.latency_ms),
            "kind": "first",
        }
    ]


def entry_object(row: Any) -> dict[str, Any]:
    """One call as the log shows it. Never a secret: a key by its id, name and prefix."""
    created = aware(row.created_at) or utcnow()
    unknown = row.upstream_model is None and row.error_code in UNKNOWN_MODEL_CODES
    key = None
    if row.api_key_id is not None:
        key = {"id": row.api_key_id, "name": row.key_name, "prefix": row.key_prefix}
    error = None
    if row.error_code is not None or row.status >= 400 or row.status == 0:
        error = {"code": row.error_code, "message": row.error_message}
    deployment = None
    if row.deployment_key is not None:
        deployment = {"key": row.deployment_key, "version": row.deployment_version, "variant": row.variant}
    return {
        "object": "log.entry",
        "id": row.id,
        "request_id": row.request_id,
        "created_at": iso(created),
        "created": created.timestamp(),
        "key": key,
        "identity": row.identity_id,
        "model": {
            "asked": row.requested_model or row.router_model,
            "used": None if unknown else row.router_model,
            "upstream": row.upstream_model,
            "unknown": unknown,
        },
        "endpoint": row.endpoint,
        "stream": bool(row.stream),
        "status": row.status,
        "error": error,
        "attempts": row.attempts,
        "fallback_used": bool(row.fallback_used),
        "cache_hit": bool(row.cache_hit),
        "ttfb_ms": _round(row.ttfb_ms),
        "latency_ms": _round(row.latency_ms),
        "tokens": {
            "prompt": row.prompt_tokens,
            "completion": row.completion_tokens,
            "total": row.total_tokens,
            "cached": row.cached_tokens,
            "reasoning": row.reasoning_tokens,
        },
        "estimated": bool(row.estimated),
        "cost": float(nano_to_usd(row.cost_nano)),
        "cost_nano": row.cost_nano,
        "deployment": deployment,
        "has_bodies": row.request_body is not None or row.response_body is not None,
    }


def detail_object(row: Any) -> dict[str, Any]:
    """``entry_object`` and what the drill-down adds: bodies (redacted once more: rows
    stored by an older relaygate were not), the routing story, the attribution."""
    entry = entry_object(row)
    entry.update(
        object="log.detail",
        request_body=None if row.request_body is None else redact(row.request_body),
        response_body=None if row.response_body is None else redact(row.response_body),
        routing=_story(row),
        overhead_ms=_round(row.overhead_ms),
        thread_id=row.thread_id,
        name=row.name,
        metadata=row.request_metadata,
        prices={"input": row.input_price, "output": row.output_price, "image": row.image_price},
        searches=row.searches,
    )
    return entry


async def log_page(
    engine: AsyncEngine, where: LogFilter, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page, newest first; the next page's cursor (None on the last page). Raises
    ``usage_reports.BadCursor``."""
    query = _query().where(where.where())
    if cursor is not None:
        moment, event_id = decode_cursor(cursor)
        query = query.where(
            or_(EVENTS.c.created_at < moment, and_(EVENTS.c.created_at == moment, EVENTS.c.id < event_id))
        )
    query = query.order_by(EVENTS.c.created_at.desc(), EVENTS.c.id.desc()).limit(limit + 1)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return [entry_object(row) for row in rows], next_cursor


async def log_detail(engine: AsyncEngine, workspace_id: str, request_id: str) -> dict[str, Any] | None:
    """The call whose client saw ``x-request-id: request_id``, if it is the workspace's."""
    query = (
        _query()
        .where(EVENTS.c.workspace_id == workspace_id, EVENTS.c.request_id == request_id)
        .order_by(EVENTS.c.created_at.desc())
        .limit(1)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return detail_object(row) if row is not None else None


async def recorded_since(
    engine: AsyncEngine, workspace_id: str, since: datetime, limit: int
) -> list[dict[str, Any]]:
    """The workspace's calls recorded from ``since`` on, oldest first (the live tail)."""
    query = (
        _query()
        .where(EVENTS.c.workspace_id == workspace_id, EVENTS.c.created_at >= since)
        .order_by(EVENTS.c.created_at, EVENTS.c.id)
        .limit(limit)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [entry_object(row) for row in rows]


# -- body logging settings -------------------------------------------------------------


@dataclass(frozen=True)
class LoggingSetting:
    workspace_id: str
    log_bodies: bool
    retention_days: int
    updated_at: datetime | None = None


async def list_logging(engine: AsyncEngine) -> list[LoggingSetting]:
    """Every workspace's own setting (the catalog's rebuild reads them all)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(SETTINGS))).all()
    return [
        LoggingSetting(row.workspace_id, bool(row.log_bodies), row.retention_days, aware(row.updated_at))
        for row in rows
    ]


async def get_logging(engine: AsyncEngine, workspace_id: str) -> LoggingSetting | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(SETTINGS).where(SETTINGS.c.workspace_id == workspace_id))).first()
    if row is None:
        return None
    return LoggingSetting(row.workspace_id, bool(row.log_bodies), row.retention_days, aware(row.updated_at))


async def put_logging(engine: AsyncEngine, setting: LoggingSetting, now: datetime) -> None:
    """Store the workspace's setting; the catalog version moves, so every process's data
    plane picks it up as it does a model change."""
    values = {"log_bodies": setting.log_bodies, "retention_days": setting.retention_days, "updated_at": now}
    async with engine.begin() as conn:
        await conn.execute(delete(SETTINGS).where(SETTINGS.c.workspace_id == setting.workspace_id))
        await conn.execute(insert(SETTINGS).values(workspace_id=setting.workspace_id, **values))
        await _bump(conn)


# -- retention -------------------------------------------------------------------------


async def retention_days(engine: AsyncEngine) -> dict[str, int]:
    """Each workspace's body retention in days (its own, else ``DEFAULT_RETENTION_DAYS``)."""
    async with engine.connect() as conn:
        workspaces = (await conn.execute(select(tables.workspaces.c.id))).scalars().all()
        own = dict(
            (await conn.execute(select(SETTINGS.c.workspace_id, SETTINGS.c.retention_days))).tuples().all()
        )
    return {workspace: own.get(workspace, DEFAULT_RETENTION_DAYS) for workspace in workspaces}


async def blank_bodies(
    engine: AsyncEngine, workspace_id: str, before: datetime, after: datetime | None
) -> int:
    """Drop the bodies of the workspace's calls made before ``before`` (and from ``after`` on,
    when a previous sweep already did the older ones); the calls' numbers stay. Returns how
    many calls lost their bodies."""
    clauses = [
        EVENTS.c.workspace_id == workspace_id,
        EVENTS.c.created_at < before,
        or_(EVENTS.c.request_body.is_not(None), EVENTS.c.response_body.is_not(None)),
    ]
    if after is not None:
        clauses.append(EVENTS.c.created_at >= after)
    statement = update(EVENTS).where(*clauses).values(request_body=None, response_body=None)
    async with engine.begin() as conn:
        result = await conn.execute(statement)
    return int(result.rowcount or 0)


def cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
