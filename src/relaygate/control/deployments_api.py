"""HTTP glue for /v2/deployments: relaygate's management API and the SDKs' list shapes.

Writes take an admin key; reads take any key of the workspace, since an application
lists the deployments it calls with its router key (``auth.READS_FOR_ANY_KEY``). A
deployment is named by its key or its id in every path. Error answers here also carry a
top-level ``message`` (``sdk_errors``), which the hosted product's SDKs require.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from relaygate.catalog import Principal
from relaygate.deployments.config import DEFAULT_VARIANT

from .auth import admin, member, runtime_of
from .deployment_schemas import (
    DeploymentCreate,
    DeploymentDeleted,
    DeploymentList,
    DeploymentObject,
    DeploymentUpdate,
    Rollback,
    VersionList,
)
from .deployment_service import DeploymentService
from .deployment_view import deployment_object, list_item, variant_named, version_item

router = APIRouter(prefix="/v2/deployments", tags=["deployments"])
Admin = Annotated[Principal, Depends(admin)]
Member = Annotated[Principal, Depends(member)]
Limit = Annotated[int, Query(ge=1, le=50, description="Items per page, 1-50.")]
Cursor = Annotated[str | None, Query(max_length=64)]
KEY_OR_ID = "The deployment's key, or its id."


def _service(request: Request) -> DeploymentService:
    runtime = runtime_of(request)
    return DeploymentService(runtime.engine, runtime.catalog)


@router.post(
    "",
    summary="Create a deployment (its version 1)",
    description="Answers 400 naming the field that is wrong (e.g. `variants[1].model`), 409 when the "
    "workspace already has the key.",
)
async def create_deployment(body: DeploymentCreate, request: Request, principal: Admin) -> DeploymentObject:
    fields = body.model_dump(exclude_unset=True)
    return deployment_object(await _service(request).create(principal, fields))


@router.get("", summary="List this workspace's deployments, newest first (the SDKs' deployments.list)")
async def list_deployments(
    request: Request,
    principal: Member,
    limit: Limit = 10,
    starting_after: Cursor = None,
    ending_before: Cursor = None,
) -> DeploymentList:
    service = _service(request)
    page = await service.page(principal.workspace_id, limit, starting_after, ending_before)
    models = await service.models(principal.workspace_id)
    return DeploymentList(data=[list_item(item, models) for item in page.items], has_more=page.has_more)


@router.get("/{key_or_id}", summary="Get a deployment's current version", description=KEY_OR_ID)
async def get_deployment(key_or_id: str, request: Request, principal: Member) -> DeploymentObject:
    return deployment_object(await _service(request).get(principal.workspace_id, key_or_id))


@router.patch(
    "/{key_or_id}",
    summary="Change a deployment: a new version with the fields given replaced",
    description="Fields left out keep their value, `null` sets a field's default. A change that "
    "changes nothing makes no version and answers the current one.",
)
async def update_deployment(
    key_or_id: str, body: DeploymentUpdate, request: Request, principal: Admin
) -> DeploymentObject:
    fields = body.model_dump(exclude_unset=True)
    return deployment_object(await _service(request).update(principal, key_or_id, fields))


@router.delete("/{key_or_id}", summary="Delete a deployment and its versions", description=KEY_OR_ID)
async def delete_deployment(key_or_id: str, request: Request, principal: Admin) -> DeploymentDeleted:
    deleted = await _service(request).delete(principal.workspace_id, key_or_id)
    return DeploymentDeleted(id=deleted.id, key=deleted.key)


@router.post(
    "/{key_or_id}/rollback",
    summary="Make an earlier version's content current again, as a new version",
    description="History is never rewritten: the new version's note says `rollback to version N`. "
    "404 for a version the deployment never had, 400 for the current one.",
)
async def rollback_deployment(
    key_or_id: str, body: Rollback, request: Request, principal: Admin
) -> DeploymentObject:
    return deployment_object(await _service(request).rollback(principal, key_or_id, body.version))


@router.get(
    "/{key_or_id}/versions",
    summary="List a deployment's versions, newest first (the SDK's deployments.list_versions)",
    description="`variant_id` is a variant's name (`default`: the deployment's own prompt); with it, "
    "only versions that have that variant are listed, described by it.",
)
async def list_versions(
    key_or_id: str,
    request: Request,
    principal: Member,
    limit: Limit = 10,
    starting_after: Cursor = None,
    ending_before: Cursor = None,
    variant_id: Cursor = None,
) -> VersionList:
    service = _service(request)
    deployment = await service.get(principal.workspace_id, key_or_id)
    page = await service.versions(deployment, limit, starting_after, ending_before, variant_id)
    models = await service.models(principal.workspace_id)
    items = []
    for version in page.items:
        variant = variant_named(version.content, variant_id or DEFAULT_VARIANT)
        if variant is not None:
            items.append(version_item(version, deployment.version, variant, models))
    return VersionList(data=items, has_more=page.has_more)
