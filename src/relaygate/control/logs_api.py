"""HTTP glue for the request log: ``/v2/logs`` (pages of router calls, newest first),
``/v2/logs/stream`` (the live tail, server-sent events), ``/v2/logs/{request_id}`` (one
call, its bodies and routing story) and ``/v2/workspace/logging`` (the workspace's body
logging and retention). Admin key of the workspace; another workspace's call is a 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from relaygate.catalog import Principal
from relaygate.errors import InvalidRequest, NotFound
from relaygate.sse import KEEPALIVE, encode_event
from relaygate.store import request_log
from relaygate.store.records import utcnow
from relaygate.store.usage_reports import BadCursor

from .auth import admin, runtime_of
from .log_tail import entries_after
from .query_times import query_time

router = APIRouter(tags=["logs"])
Admin = Annotated[Principal, Depends(admin)]
MAX_LIMIT = 200
HEARTBEAT_S = 15.0


def present(value: Any) -> Any:
    """``value`` without its null fields, at any depth: a /v2 answer leaves out an optional
    field that has no value (the hosted SDKs' convention, README)."""
    if isinstance(value, dict):
        return {key: present(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [present(item) for item in value]
    return value


class LogFilters:
    """The query parameters the page and the live tail share."""

    def __init__(
        self,
        start: Annotated[str | None, Query(alias="from", description="ISO 8601 or unix seconds")] = None,
        end: Annotated[str | None, Query(alias="to", description="ISO 8601 or unix seconds")] = None,
        model: Annotated[str | None, Query(max_length=260, description="model asked for or used")] = None,
        key: Annotated[str | None, Query(max_length=64, description="api key id")] = None,
        identity: Annotated[str | None, Query(max_length=128, description="identity id")] = None,
        status: Annotated[
            str | None, Query(max_length=8, description="a code (429), a class (4xx), ok or error")
        ] = None,
        deployment: Annotated[str | None, Query(max_length=128, description="deployment key")] = None,
        request_id: Annotated[
            str | None, Query(max_length=64, description="the x-request-id the client saw")
        ] = None,
    ) -> None:
        self.values = (start, end, model, key, identity, status, deployment, request_id)

    def of(self, principal: Principal) -> request_log.LogFilter:
        start, end, model, key, identity, status, deployment, request_id = self.values
        try:
            return request_log.LogFilter(
                principal.workspace_id,
                start=query_time(start, "from"),
                end=query_time(end, "to"),
                model=model or None,
                api_key_id=key or None,
                identity_id=identity or None,
                status=status or None,
                deployment_key=deployment or None,
                request_id=request_id or None,
            )
        except request_log.BadFilter as exc:
            raise InvalidRequest(str(exc), param=exc.param) from None


Filters = Annotated[LogFilters, Depends()]


@router.get("/v2/logs", summary="Router calls of the workspace, newest first (keyset pages)")
async def list_logs(
    request: Request,
    principal: Admin,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    where = filters.of(principal)
    try:
        entries, next_cursor = await request_log.log_page(
            runtime_of(request).engine, where, limit=limit, cursor=cursor or None
        )
    except BadCursor as exc:
        raise InvalidRequest(str(exc), param="cursor", code="invalid_cursor") from None
    page = {
        "object": "list",
        "data": entries,
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
    }
    return dict(present(page))


@router.get(
    "/v2/logs/stream",
    summary="New router calls as server-sent events (event: entry), with the page's filters",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_logs(request: Request, principal: Admin, filters: Filters) -> StreamingResponse:
    where = filters.of(principal)
    runtime = runtime_of(request)

    async def events() -> AsyncIterator[bytes]:
        yield encode_event(orjson.dumps({"object": "log.tail", "started_at": utcnow().isoformat()}), "ready")
        async with runtime.log_tail.listen(where) as listener:
            reported = 0
            async for entry in entries_after(listener, HEARTBEAT_S, lambda: runtime.drain.draining):
                if listener.dropped > reported:  # a listener too slow for the traffic
                    yield encode_event(orjson.dumps({"dropped": listener.dropped - reported}), "dropped")
                    reported = listener.dropped
                yield KEEPALIVE if entry is None else encode_event(orjson.dumps(present(entry)), "entry")

    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/v2/logs/{request_id}", summary="One call: its fields, bodies (when logged) and routing story")
async def get_log(request: Request, principal: Admin, request_id: str) -> dict[str, Any]:
    found = None
    if len(request_id) <= 64:
        found = await request_log.log_detail(runtime_of(request).engine, principal.workspace_id, request_id)
    if found is None:
        raise NotFound(
            f"No call with request id '{request_id[:64]}' in this workspace's log.",
            param="request_id",
            code="log_not_found",
        )
    return dict(present(found))


# -- the workspace's body logging -----------------------------------------------------


class LoggingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    log_bodies: bool | None = None
    retention_days: Annotated[int | None, Field(ge=1, le=3650)] = None


def _logging_object(
    request: Request, principal: Principal, setting: request_log.LoggingSetting | None
) -> dict[str, Any]:
    runtime = runtime_of(request)
    default = runtime.settings.log_bodies
    answer = {
        "object": "workspace.logging",
        "log_bodies": setting.log_bodies if setting is not None else default,
        "retention_days": setting.retention_days
        if setting is not None
        else request_log.DEFAULT_RETENTION_DAYS,
        "server_default": default,  # RELAYGATE_LOG_BODIES: what holds until the workspace chooses
        "own_setting": setting is not None,
        "max_body_bytes": runtime.settings.log_body_bytes,
        "updated_at": setting.updated_at.isoformat() if setting is not None and setting.updated_at else None,
        "workspace_id": principal.workspace_id,
    }
    return dict(present(answer))


@router.get("/v2/workspace/logging", summary="The workspace's body logging and retention")
async def get_logging(request: Request, principal: Admin) -> dict[str, Any]:
    setting = await request_log.get_logging(runtime_of(request).engine, principal.workspace_id)
    return _logging_object(request, principal, setting)


@router.patch("/v2/workspace/logging", summary="Turn body logging on or off, set the retention")
async def patch_logging(request: Request, principal: Admin, patch: LoggingPatch) -> dict[str, Any]:
    runtime = runtime_of(request)
    current = await request_log.get_logging(runtime.engine, principal.workspace_id)
    setting = request_log.LoggingSetting(
        principal.workspace_id,
        patch.log_bodies
        if patch.log_bodies is not None
        else (current.log_bodies if current else runtime.settings.log_bodies),
        patch.retention_days or (current.retention_days if current else request_log.DEFAULT_RETENTION_DAYS),
    )
    await request_log.put_logging(runtime.engine, setting, utcnow())
    await runtime.catalog.refresh()  # this process's data plane at once; others through the version
    return _logging_object(
        request, principal, await request_log.get_logging(runtime.engine, principal.workspace_id)
    )


@router.post("/v2/workspace/logging/sweep", summary="Apply the retention now: drop older bodies")
async def sweep_logging(request: Request, principal: Admin) -> dict[str, Any]:
    runtime = runtime_of(request)
    blanked = await runtime.log_retention.sweep_workspace(principal.workspace_id)
    return {"object": "workspace.logging.sweep", "calls_blanked": blanked}
