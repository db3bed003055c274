"""HTTP glue for /v2/api-keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from relaygate.catalog import Principal
from relaygate.errors import NotFound
from relaygate.keys import issue_key, key_object
from relaygate.store import repository

from .auth import admin, runtime_of
from .schemas import ApiKeyCreate

router = APIRouter(prefix="/v2/api-keys", tags=["api keys"])
Admin = Annotated[Principal, Depends(admin)]


@router.post("", summary="Create a key; its secret is in this answer only")
async def create_key(body: ApiKeyCreate, request: Request, principal: Admin) -> dict[str, Any]:
    runtime = runtime_of(request)
    record, secret = await issue_key(runtime.engine, principal.workspace_id, role=body.role, name=body.name)
    await runtime.catalog.refresh()
    return key_object(record, secret)


@router.get("", summary="List this workspace's keys (never their secrets)")
async def list_keys(request: Request, principal: Admin) -> dict[str, Any]:
    keys = await repository.list_keys(runtime_of(request).engine, principal.workspace_id)
    return {"object": "list", "data": [key_object(key) for key in keys]}


@router.delete("/{key_id}", summary="Revoke a key, at once")
async def revoke_key(key_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    runtime = runtime_of(request)
    revoked = await repository.revoke_key(runtime.engine, principal.workspace_id, key_id)
    if revoked is None:
        raise NotFound(
            f"No API key with id '{key_id}' in this workspace.", param="id", code="api_key_not_found"
        )
    await runtime.catalog.refresh()
    return {"id": key_id, "object": "api_key", "deleted": True, "revoked": True}
