"""HTTP glue for /v2/datasets and their datapoints, as the hosted product's SDKs call them.

Deletes answer ``204`` with no body; lists answer the SDKs' envelope and page by id
(``starting_after``, ``ending_before``): datasets newest first, datapoints in the order
they were added. Another workspace's dataset or datapoint is a 404 like an unknown one.
Imports, exports and datapoints from traffic are ``dataset_transfers_api``'s.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response

from relaygate.catalog import Principal
from relaygate.datasets.datapoints import check_datapoints, check_fields
from relaygate.errors import NotFound
from relaygate.store import datasets as store
from relaygate.store.datasets import Dataset
from relaygate.store.id_pages import PageRequest

from .auth import admin, runtime_of
from .dataset_schemas import MAX_BULK, BulkCreate, BulkDelete, DatasetCreate, DatasetUpdate
from .dataset_views import datapoint_object, dataset_object, list_object

router = APIRouter(prefix="/v2/datasets", tags=["datasets"])
Admin = Annotated[Principal, Depends(admin)]
NO_CONTENT: dict[int | str, dict[str, Any]] = {204: {"description": "Done; the body is empty."}}
Cursor = Annotated[str | None, Query(max_length=64, description="An object id (the SDKs' cursor).")]


class Page:
    """The SDKs' paging: ``limit`` objects after ``starting_after`` or before ``ending_before``."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=200)] = 10,
        starting_after: Cursor = None,
        ending_before: Cursor = None,
    ) -> None:
        self.limit, self.starting_after, self.ending_before = limit, starting_after, ending_before

    def request(self, *, newest_first: bool) -> PageRequest:
        return PageRequest(self.limit, self.starting_after, self.ending_before, newest_first)


def no_dataset(dataset_id: str) -> NotFound:
    return NotFound(f"No dataset {dataset_id!r} in this workspace.", param="dataset_id")


async def found_dataset(request: Request, principal: Principal, dataset_id: str) -> Dataset:
    dataset = await store.get_dataset(runtime_of(request).engine, principal.workspace_id, dataset_id)
    if dataset is None:
        raise no_dataset(dataset_id)
    return dataset


def _no_datapoint(datapoint_id: str) -> NotFound:
    return NotFound(f"No datapoint {datapoint_id!r} in this dataset.", param="datapoint_id")


# -- datasets -------------------------------------------------------------------------


@router.get("", summary="List this workspace's datasets (newest first)")
async def list_datasets(
    request: Request,
    principal: Admin,
    page: Annotated[Page, Depends()],
    search: Annotated[str | None, Query(max_length=256, description="Part of the name.")] = None,
    updated_by: Annotated[str | None, Query(max_length=64, description="An api key id.")] = None,
    project_id: Annotated[str | None, Query(max_length=64, description="The workspace's id.")] = None,
) -> dict[str, Any]:
    if project_id is not None and project_id != principal.workspace_id:
        return list_object([], False)  # relaygate's one project per workspace is the workspace
    found, more = await store.list_datasets(
        runtime_of(request).engine,
        principal.workspace_id,
        page.request(newest_first=True),
        search=search,
        updated_by=updated_by,
    )
    return list_object([dataset_object(dataset) for dataset in found], more)


@router.post("", summary="Create a dataset")
async def create_dataset(body: DatasetCreate, request: Request, principal: Admin) -> dict[str, Any]:
    dataset = await store.create_dataset(
        runtime_of(request).engine, principal.workspace_id, body.display_name, body.path, principal.key_id
    )
    return dataset_object(dataset)


@router.get("/{dataset_id}", summary="Get a dataset")
async def get_dataset(dataset_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    return dataset_object(await found_dataset(request, principal, dataset_id))


@router.patch("/{dataset_id}", summary="Rename a dataset")
async def update_dataset(
    dataset_id: str, request: Request, principal: Admin, body: DatasetUpdate | None = None
) -> dict[str, Any]:
    changes = body.model_dump(include={"display_name", "path"}, exclude_none=True) if body else {}
    engine = runtime_of(request).engine
    updated = await store.update_dataset(
        engine, principal.workspace_id, dataset_id, changes, principal.key_id
    )
    if updated is None:
        raise no_dataset(dataset_id)
    return dataset_object(updated)


@router.delete(
    "/{dataset_id}", summary="Delete a dataset and its datapoints", status_code=204, responses=NO_CONTENT
)
async def delete_dataset(dataset_id: str, request: Request, principal: Admin) -> Response:
    if not await store.delete_dataset(runtime_of(request).engine, principal.workspace_id, dataset_id):
        raise no_dataset(dataset_id)
    return Response(status_code=204)


@router.delete(
    "/{dataset_id}/clear",
    summary="Delete every datapoint of a dataset",
    status_code=204,
    responses=NO_CONTENT,
)
async def clear_dataset(dataset_id: str, request: Request, principal: Admin) -> Response:
    engine = runtime_of(request).engine
    if not await store.clear_dataset(engine, principal.workspace_id, dataset_id, principal.key_id):
        raise no_dataset(dataset_id)
    return Response(status_code=204)


# -- datapoints -----------------------------------------------------------------------


@router.get("/{dataset_id}/datapoints", summary="List a dataset's datapoints (in the order they were added)")
async def list_datapoints(
    dataset_id: str, request: Request, principal: Admin, page: Annotated[Page, Depends()]
) -> dict[str, Any]:
    await found_dataset(request, principal, dataset_id)
    found, more = await store.list_datapoints(
        runtime_of(request).engine, principal.workspace_id, dataset_id, page.request(newest_first=False)
    )
    return list_object([datapoint_object(datapoint) for datapoint in found], more)


async def _create(
    request: Request, principal: Admin, dataset_id: str, items: Any, where: str
) -> list[dict[str, Any]]:
    await found_dataset(request, principal, dataset_id)
    datapoints = check_datapoints(items, where, MAX_BULK)
    engine = runtime_of(request).engine
    stored = await store.add_datapoints(
        engine, principal.workspace_id, dataset_id, datapoints, principal.key_id
    )
    if stored is None:  # deleted meanwhile
        raise no_dataset(dataset_id)
    return [datapoint_object(datapoint) for datapoint in stored]


@router.post("/{dataset_id}/datapoints", summary="Add datapoints (a JSON array of them)")
async def create_datapoints(
    dataset_id: str,
    request: Request,
    principal: Admin,
    body: Annotated[list[Any] | None, Body(description="DatapointInput objects.")] = None,
) -> list[dict[str, Any]]:
    return await _create(request, principal, dataset_id, body or [], "")


@router.post("/{dataset_id}/datapoints/bulk", summary="Add datapoints ({items: [...]})")
async def bulk_create_datapoints(
    dataset_id: str, body: BulkCreate, request: Request, principal: Admin
) -> list[dict[str, Any]]:
    return await _create(request, principal, dataset_id, body.items, "items")


@router.get("/{dataset_id}/datapoints/{datapoint_id}", summary="Get a datapoint")
async def get_datapoint(
    dataset_id: str, datapoint_id: str, request: Request, principal: Admin
) -> dict[str, Any]:
    found = await store.get_datapoint(
        runtime_of(request).engine, principal.workspace_id, dataset_id, datapoint_id
    )
    if found is None:
        await found_dataset(request, principal, dataset_id)
        raise _no_datapoint(datapoint_id)
    return datapoint_object(found)


@router.patch("/{dataset_id}/datapoints/{datapoint_id}", summary="Change a datapoint (null removes a field)")
async def update_datapoint(
    dataset_id: str,
    datapoint_id: str,
    request: Request,
    principal: Admin,
    body: Annotated[dict[str, Any] | None, Body(description="inputs, messages, expected_output.")] = None,
) -> dict[str, Any]:
    changes = check_fields(body or {}, "", partial=True)
    engine = runtime_of(request).engine
    updated = await store.update_datapoint(
        engine, principal.workspace_id, dataset_id, datapoint_id, changes, principal.key_id
    )
    if updated is None:
        await found_dataset(request, principal, dataset_id)
        raise _no_datapoint(datapoint_id)
    return datapoint_object(updated)


@router.delete(
    "/{dataset_id}/datapoints/{datapoint_id}",
    summary="Delete a datapoint",
    status_code=204,
    responses=NO_CONTENT,
)
async def delete_datapoint(
    dataset_id: str, datapoint_id: str, request: Request, principal: Admin
) -> Response:
    engine = runtime_of(request).engine
    deleted = await store.delete_datapoints(
        engine, principal.workspace_id, dataset_id, [datapoint_id], principal.key_id
    )
    if deleted is None:
        raise no_dataset(dataset_id)
    if not deleted:
        raise _no_datapoint(datapoint_id)
    return Response(status_code=204)


@router.post(
    "/{dataset_id}/datapoints-bulk-delete",
    summary="Delete several datapoints ({item_ids: [...]}; ids not in the dataset are skipped)",
    status_code=204,
    responses=NO_CONTENT,
)
async def bulk_delete_datapoints(
    dataset_id: str, body: BulkDelete, request: Request, principal: Admin
) -> Response:
    engine = runtime_of(request).engine
    if (
        await store.delete_datapoints(
            engine, principal.workspace_id, dataset_id, body.item_ids, principal.key_id
        )
        is None
    ):
        raise no_dataset(dataset_id)
    return Response(status_code=204)
