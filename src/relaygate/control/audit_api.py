"""HTTP glue for GET /v2/audit: the workspace's admin audit log, newest first, keyset paged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from relaygate.catalog import Principal
from relaygate.deployments.ids import is_ulid
from relaygate.errors import InvalidRequest
from relaygate.store import audit as store
from relaygate.store.usage_reports import iso

from .auth import admin, runtime_of
from .query_times import query_time

router = APIRouter(prefix="/v2/audit", tags=["audit log"])
Admin = Annotated[Principal, Depends(admin)]


def entry_object(entry: store.AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "object": "audit_entry",
        "created": iso(entry.at),
        "actor": {"key_id": entry.actor_key_id, "name": entry.actor_name, "prefix": entry.actor_prefix},
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "method": entry.method,
        "path": entry.path,
        "status": entry.status,
        "before": entry.before,
        "after": entry.after,
        "request_id": entry.request_id,
        "client_address": entry.client_address,
    }


@router.get("", summary="Who created, changed or deleted what in this workspace (newest first)")
async def list_audit(
    request: Request,
    principal: Admin,
    actor: Annotated[str | None, Query(max_length=64, description="the acting api key's id")] = None,
    resource_type: Annotated[str | None, Query(max_length=32, description="model, api_key, ...")] = None,
    resource_id: Annotated[str | None, Query(max_length=260)] = None,
    action: Annotated[str | None, Query(max_length=32, description="create, update, delete, ...")] = None,
    start: Annotated[str | None, Query(alias="from", description="ISO 8601 or unix seconds")] = None,
    end: Annotated[str | None, Query(alias="to", description="ISO 8601 or unix seconds")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(max_length=36, description="the previous page's next_cursor")] = None,
) -> dict[str, Any]:
    if after is not None and not is_ulid(after):
        raise InvalidRequest("after must be a next_cursor this endpoint gave.", param="after")
    where = store.AuditFilter(
        actor_key_id=actor or None,
        resource_type=resource_type or None,
        resource_id=resource_id or None,
        action=action or None,
        since=query_time(start, "from"),
        until=query_time(end, "to"),
    )
    engine = runtime_of(request).engine
    entries, more = await store.entries_page(engine, principal.workspace_id, where, limit, after)
    return {
        "object": "list",
        "data": [entry_object(entry) for entry in entries],
        "has_more": more,
        "next_cursor": entries[-1].id if more and entries else None,
    }
