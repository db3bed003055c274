"""Datapoints in and out of a dataset in bulk: CSV/JSONL import and export, and datapoints
made from recorded router calls.

An import streams the file (a multipart upload or the raw body), bounded by
``RELAYGATE_MAX_IMPORT_BYTES``, checks every line, and stores nothing unless every line
is good: the answer then lists each bad line by its number. ``dry_run`` checks without
storing and shows the first datapoints (the Studio's preview). An export streams the
dataset in the order its datapoints were added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from relaygate.catalog import Principal
from relaygate.datasets import csv_format
from relaygate.datasets.importer import FORMATS, Format, ImportResult, bounded, read_file
from relaygate.datasets.traffic import Skipped, datapoint_of_call
from relaygate.datasets.upload import MultipartFile, boundary_of
from relaygate.errors import InvalidRequest, PayloadTooLarge
from relaygate.store import datasets as store
from relaygate.store.records import utcnow
from relaygate.store.usage_reports import UsageFilter

from .auth import admin, runtime_of
from .dataset_schemas import FromTraffic
from .dataset_views import datapoint_object
from .datasets_api import found_dataset, no_dataset

router = APIRouter(prefix="/v2/datasets", tags=["datasets"])
Admin = Annotated[Principal, Depends(admin)]
SIZE_SETTING = "RELAYGATE_MAX_IMPORT_BYTES"
PREVIEW = 20
BATCH = 500
DEFAULT_RANGE = timedelta(days=7)
_CONTENT_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/jsonl": "jsonl",
    "application/jsonlines": "jsonl",
    "application/json-lines": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/x-ndjson": "jsonl",
}
_EXTENSIONS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_IMPORT_BODY = {
    "requestBody": {
        "description": "The file: a multipart/form-data upload (field 'file'), or the raw body.",
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
            "text/csv": {"schema": {"type": "string"}},
            "application/jsonl": {"schema": {"type": "string"}},
        },
    }
}
_BODY_LOGGING_OFF = (
    "Datapoints from traffic are made from the request and answer bodies relaygate logs with each "
    "router call, and body logging is off for this workspace. Turn it on with PATCH "
    "/v2/workspace/logging with log_bodies true (or Studio's Logs page; RELAYGATE_LOG_BODIES=1 "
    "makes it the server's default): calls made from then on can become datapoints."
)


def format_of(value: str | None, where: str) -> Format:
    for known in FORMATS:
        if value == known:
            return known
    told = f"the {where} said {value!r}" if value else f"the {where} did not tell"
    raise InvalidRequest(
        f"Say which format the file is in: format=csv or format=jsonl ({told}).", param="format"
    )


def _extension_format(filename: str | None) -> str | None:
    name = (filename or "").lower()
    return next((kind for extension, kind in _EXTENSIONS.items() if name.endswith(extension)), None)


async def _source(request: Request, asked: str | None) -> tuple[Format, AsyncIterator[bytes]]:
    """The file's format and its bytes, from a multipart upload or the raw body."""
    limit = runtime_of(request).settings.max_import_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The file is larger than {limit} bytes ({SIZE_SETTING}); split it into parts.")
    chunks = bounded(request.stream(), limit, SIZE_SETTING)
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        upload = MultipartFile(chunks, boundary_of(content_type))
        await upload.open()
        if asked is None and "format" in upload.fields:
            return format_of(upload.fields["format"], "form's format field"), upload.content()
        told = (
            (asked, "format parameter")
            if asked is not None
            else (_extension_format(upload.filename), "file's name")
        )
        return format_of(*told), upload.content()
    media_type = content_type.split(";", 1)[0].strip().lower()
    told = (
        (asked, "format parameter") if asked is not None else (_CONTENT_TYPES.get(media_type), "Content-Type")
    )
    return format_of(*told), chunks


def _refusal(result: ImportResult) -> InvalidRequest:
    count = result.error_count
    lines = "1 line is not a valid datapoint" if count == 1 else f"{count} lines are not valid datapoints"
    listed = "" if count <= len(result.errors) else f" (the first {len(result.errors)} are listed)"
    return InvalidRequest(
        f"{lines}, so nothing was imported{listed}. {result.errors[0].message}",
        code="invalid_import",
        extra={
            "errors": [{"line": e.line, "message": e.message} for e in result.errors],
            "error_count": count,
        },
    )


@router.post(
    "/{dataset_id}/import",
    summary="Import datapoints from a CSV or JSONL file (all lines or none)",
    openapi_extra=_IMPORT_BODY,
)
async def import_datapoints(
    dataset_id: str,
    request: Request,
    principal: Admin,
    format: Annotated[
        str | None, Query(max_length=64, description="csv or jsonl; else told by the file.")
    ] = None,
    dry_run: Annotated[bool, Query(description="Check the file and preview it; store nothing.")] = False,
) -> dict[str, Any]:
    await found_dataset(request, principal, dataset_id)
    file_format, source = await _source(request, format)
    result = await read_file(source, file_format)
    try:
        if result.error_count:
            raise _refusal(result)
        answer: dict[str, Any] = {"object": "dataset.import", "dataset_id": dataset_id, "format": file_format}
        if dry_run:
            preview = next(result.spool.batches(PREVIEW), [])
            return {**answer, "dry_run": True, "imported": 0, "valid": result.spool.count, "preview": preview}
        engine = runtime_of(request).engine
        batches = result.spool.batches(BATCH)
        stored = await store.add_datapoint_batches(
            engine, principal.workspace_id, dataset_id, batches, principal.key_id
        )
    finally:
        result.spool.close()
    if stored is None:
        raise no_dataset(dataset_id)
    return {**answer, "dry_run": False, "imported": stored, "valid": stored}


async def _jsonl(request: Request, principal: Principal, dataset_id: str) -> AsyncIterator[bytes]:
    engine = runtime_of(request).engine
    async for batch in store.datapoint_batches(engine, principal.workspace_id, dataset_id, BATCH):
        yield b"".join(orjson.dumps(datapoint.fields()) + b"\n" for datapoint in batch)


async def _csv(request: Request, principal: Principal, dataset_id: str) -> AsyncIterator[bytes]:
    """Two passes: the input variables of every datapoint (the columns), then the rows."""
    engine = runtime_of(request).engine
    columns: dict[str, None] = {}
    async for batch in store.datapoint_batches(engine, principal.workspace_id, dataset_id, BATCH):
        columns.update(dict.fromkeys(csv_format.input_names(datapoint.fields() for datapoint in batch)))
    names = list(columns)
    yield csv_format.header_line(names).encode()
    async for batch in store.datapoint_batches(engine, principal.workspace_id, dataset_id, BATCH):
        yield "".join(csv_format.datapoint_line(datapoint.fields(), names) for datapoint in batch).encode()


@router.get(
    "/{dataset_id}/export",
    summary="Export a dataset's datapoints as CSV or JSONL (streamed)",
    responses={200: {"content": {"text/csv": {}, "application/jsonl": {}}}},
)
async def export_datapoints(
    dataset_id: str,
    request: Request,
    principal: Admin,
    format: Annotated[str, Query(max_length=64, description="csv or jsonl")] = "jsonl",
) -> StreamingResponse:
    await found_dataset(request, principal, dataset_id)  # a 404 before any other answer
    file_format = format_of(format, "format parameter")
    headers = {"content-disposition": f'attachment; filename="{dataset_id}.{file_format}"'}
    if file_format == "csv":
        return StreamingResponse(
            _csv(request, principal, dataset_id), media_type="text/csv; charset=utf-8", headers=headers
        )
    return StreamingResponse(
        _jsonl(request, principal, dataset_id), media_type="application/jsonl", headers=headers
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@router.post(
    "/{dataset_id}/from-traffic",
    summary="Add datapoints made from recorded router chat calls (needs body logging)",
)
async def from_traffic(
    dataset_id: str, body: FromTraffic, request: Request, principal: Admin
) -> dict[str, Any]:
    await found_dataset(request, principal, dataset_id)
    runtime = runtime_of(request)
    logs = runtime.catalog.logs_bodies(principal.workspace_id)  # the workspace's own choice first
    if not (logs or (logs is None and runtime.settings.log_bodies)):
        raise InvalidRequest(_BODY_LOGGING_OFF, code="body_logging_off")
    end = _utc(body.end) if body.end else utcnow()
    start = _utc(body.start) if body.start else end - DEFAULT_RANGE
    if start >= end:
        raise InvalidRequest("'from' must be earlier than 'to'.", param="from")
    where = UsageFilter(principal.workspace_id, start, end, body.model, body.api_key_id, body.identity_id)
    calls = await store.recorded_chat_calls(runtime.engine, where, body.status, body.limit)
    made: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for request_body, response_body in calls:
        try:
            made.append(datapoint_of_call(request_body, response_body))
        except Skipped as skip:
            skipped[skip.reason] += 1
    stored = await store.add_datapoints(
        runtime.engine, principal.workspace_id, dataset_id, made, principal.key_id
    )
    if stored is None:
        raise no_dataset(dataset_id)
    return {
        "object": "dataset.from_traffic",
        "dataset_id": dataset_id,
        "calls": len(calls),
        "created": len(stored),
        "skipped": dict(skipped),
        "data": [datapoint_object(datapoint) for datapoint in stored],
    }
