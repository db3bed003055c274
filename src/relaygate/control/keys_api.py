"""HTTP glue for /v2/api-keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from relaygate.catalog import Principal
from relaygate.control.key_issuing import issue_key, key_object
from relaygate.errors import NotFound
from relaygate.runtime import Runtime
from relaygate.store import repository
from relaygate.store.records import ApiKey

from .auth import admin, runtime_of
from .budgets_api import key_extras, set_key_limits
from .key_access import access_fields, checked_expiry, checked_models, refusals, set_access
from .key_protocol import ApiKeyDeleted, ApiKeyList, ApiKeyObject
from .limit_schemas import KeyLimits
from .schemas import ApiKeyCreate, ApiKeyUpdate

router = APIRouter(prefix="/v2/api-keys", tags=["api keys"])
Admin = Annotated[Principal, Depends(admin)]


@router.post("", summary="Create a key; its secret is in this answer only")
async def create_key(body: ApiKeyCreate, request: Request, principal: Admin) -> ApiKeyObject:
    runtime = runtime_of(request)
    record, secret = await issue_key(
        runtime.engine,
        principal.workspace_id,
        role=body.role,
        name=body.name,
        expires_at=checked_expiry(body.expires_at),
        allowed_models=await checked_models(runtime, principal.workspace_id, body.allowed_models),
    )
    if body.limits is not None or body.budget is not None:
        await set_key_limits(runtime, principal, record.id, body.limits, body.budget, replace_budget=True)
    else:
        await runtime.catalog.refresh()
    extras = await _shown(runtime, principal.workspace_id)
    return ApiKeyObject.model_validate(key_object(record, secret, extras=_with_access(record, extras)))


async def _shown(runtime: Runtime, workspace_id: str) -> dict[str, dict[str, Any]]:
    """Per key id: its limits, budget and recent refusals."""
    extras = await key_extras(runtime, workspace_id)
    for key_id, refused in (await refusals(runtime, workspace_id, extras)).items():
        extras[key_id]["refusals"] = refused
    return extras


def _with_access(key: ApiKey, extras: dict[str, dict[str, Any]]) -> dict[str, object]:
    return {**extras.get(key.id, {}), **access_fields(key)}


@router.get("", summary="List this workspace's keys (never their secrets), with limits and budgets")
async def list_keys(request: Request, principal: Admin) -> ApiKeyList:
    runtime = runtime_of(request)
    keys = await repository.list_keys(runtime.engine, principal.workspace_id)
    extras = await _shown(runtime, principal.workspace_id)
    data = [ApiKeyObject.model_validate(key_object(key, extras=_with_access(key, extras))) for key in keys]
    return ApiKeyList(object="list", data=data)


@router.patch("/{key_id}", summary="Change a key's limits, budget, expiry or allowed models")
async def update_key(key_id: str, body: ApiKeyUpdate, request: Request, principal: Admin) -> ApiKeyObject:
    runtime = runtime_of(request)
    key = next(
        (k for k in await repository.list_keys(runtime.engine, principal.workspace_id) if k.id == key_id),
        None,
    )
    if key is None:
        raise _key_not_found(key_id)
    limits = body.limits if "limits" in body.model_fields_set else None
    if "limits" in body.model_fields_set and body.limits is None:
        limits = KeyLimits()
    sent = body.model_fields_set
    key = (
        await set_access(runtime, principal.workspace_id, key_id, sent, body.expires_at, body.allowed_models)
        or key
    )
    if limits is not None or "budget" in sent:
        await set_key_limits(runtime, principal, key_id, limits, body.budget, replace_budget="budget" in sent)
    extras = await _shown(runtime, principal.workspace_id)
    return ApiKeyObject.model_validate(key_object(key, extras=_with_access(key, extras)))


def _key_not_found(key_id: str) -> NotFound:
    return NotFound(f"No API key with id '{key_id}' in this workspace.", param="id", code="api_key_not_found")


@router.delete("/{key_id}", summary="Revoke a key, at once")
async def revoke_key(key_id: str, request: Request, principal: Admin) -> ApiKeyDeleted:
    runtime = runtime_of(request)
    revoked = await repository.revoke_key(runtime.engine, principal.workspace_id, key_id)
    if revoked is None:
        raise _key_not_found(key_id)
    await runtime.catalog.refresh()
    return ApiKeyDeleted(id=key_id, object="api_key", deleted=True, revoked=True)
