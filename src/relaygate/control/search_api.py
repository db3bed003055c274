"""HTTP glue for /v2/search/backend: the workspace's web search backend (one per workspace)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from relaygate.catalog import Principal

from .auth import admin, runtime_of
from .search_protocol import SearchBackendDeleted, SearchBackendObject, SearchBackendSet
from .search_service import backend_object

router = APIRouter(prefix="/v2/search/backend", tags=["web search"])
Admin = Annotated[Principal, Depends(admin)]


@router.get("", summary="This workspace's web search backend (404 when none is set)")
async def get_backend(request: Request, principal: Admin) -> SearchBackendObject:
    return backend_object(await runtime_of(request).search_backends.get(principal.workspace_id))


@router.put(
    "",
    summary="Set this workspace's web search backend (SearXNG, Brave or Tavily); its key is not shown again",
)
async def put_backend(body: SearchBackendSet, request: Request, principal: Admin) -> SearchBackendObject:
    return backend_object(await runtime_of(request).search_backends.put(principal.workspace_id, body))


@router.delete("", summary="Remove this workspace's web search backend")
async def delete_backend(request: Request, principal: Admin) -> SearchBackendDeleted:
    await runtime_of(request).search_backends.delete(principal.workspace_id)
    return SearchBackendDeleted(object="search.backend", deleted=True)
