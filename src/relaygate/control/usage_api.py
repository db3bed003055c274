"""HTTP glue for /v2/usage (totals and time series) and /v2/usage/events (raw pages).

Both answer JSON, or CSV with ``?format=csv``. Both see the caller's workspace only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from relaygate.catalog import Principal
from relaygate.errors import InvalidRequest
from relaygate.spreadsheet import csv_line
from relaygate.store import usage_reports
from relaygate.store.records import utcnow
from relaygate.vocab import UsageGroup, UsageInterval

from .auth import admin, runtime_of
from .query_times import query_time
from .usage_protocol import UsageEventList, UsageReport

router = APIRouter(prefix="/v2/usage", tags=["usage"])
Admin = Annotated[Principal, Depends(admin)]
Format = Literal["json", "csv"]
DEFAULT_RANGE = timedelta(days=7)
CSV_PAGE = 1000
_SERIES_COLUMNS = (
    "bucket",
    "group",
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "cost_nano",
    "latency_ms_avg",
    "searches",
    "search_cost_nano",
)
_EVENT_COLUMNS = (
    "id",
    "created_at",
    "request_id",
    "router_model",
    "upstream_model",
    "endpoint",
    "status",
    "error_code",
    "stream",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "images",
    "estimated",
    "cost",
    "cost_nano",
    "latency_ms",
    "ttfb_ms",
    "overhead_ms",
    "attempts",
    "searches",
    "search_cost_nano",
    "search_ms",
    "fallback_used",
    "cache_hit",
    "api_key_id",
    "identity_id",
    "thread_id",
    "name",
    "deployment_key",
    "deployment_version",
    "variant",
    "request_body",
    "response_body",
)


# Each endpoint answers CSV too (``?format=csv``); the JSON answer's schema is its response model.
CSV_TOO: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}


def _moment(value: str | None, param: str, default: datetime) -> datetime:
    return query_time(value, param) or default


def _filter(
    principal: Principal,
    start: str | None,
    end: str | None,
    model: str | None,
    key: str | None,
    identity: str | None,
) -> usage_reports.UsageFilter:
    to = _moment(end, "to", utcnow())
    since = _moment(start, "from", to - DEFAULT_RANGE)
    if since >= to:
        raise InvalidRequest("from must be earlier than to.", param="from")
    return usage_reports.UsageFilter(
        principal.workspace_id, since, to, model or None, key or None, identity or None
    )


class Filters:
    """The query parameters both endpoints share."""

    def __init__(
        self,
        start: Annotated[str | None, Query(alias="from", description="ISO 8601 or unix seconds")] = None,
        end: Annotated[str | None, Query(alias="to", description="ISO 8601 or unix seconds")] = None,
        model: Annotated[str | None, Query(max_length=260, description="router model id")] = None,
        key: Annotated[str | None, Query(max_length=64, description="api key id")] = None,
        api_key: Annotated[str | None, Query(max_length=64, description="api key id (same as key)")] = None,
        identity: Annotated[str | None, Query(max_length=128, description="identity id")] = None,
        deployment_key: Annotated[
            str | None, Query(max_length=128, description="calls made through this deployment")
        ] = None,
        deployment_version: Annotated[int | None, Query(ge=1, description="... of this version")] = None,
        variant: Annotated[
            str | None, Query(max_length=128, description="... served by this variant")
        ] = None,
        format: Annotated[Format, Query(description="json or csv")] = "json",
    ) -> None:
        self.start, self.end, self.model, self.key, self.identity = (
            start,
            end,
            model,
            key or api_key,
            identity,
        )
        self.deployment = (deployment_key or None, deployment_version, variant or None)
        self.format = format

    def of(self, principal: Principal) -> usage_reports.UsageFilter:
        where = _filter(principal, self.start, self.end, self.model, self.key, self.identity)
        key, version, variant = self.deployment
        return replace(where, deployment_key=key, deployment_version=version, variant=variant)


def csv_response(body: str | AsyncIterator[str], name: str) -> Response:
    """A CSV download named ``name``.csv, whole or streamed."""
    headers = {"content-disposition": f'attachment; filename="{name}.csv"'}
    if isinstance(body, str):
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "",
    summary="Totals and a time series of this workspace's router calls",
    response_model=UsageReport,
    responses=CSV_TOO,
)
async def usage(
    request: Request,
    principal: Admin,
    filters: Annotated[Filters, Depends()],
    interval: Annotated[UsageInterval, Query()] = "day",
    group_by: Annotated[UsageGroup | None, Query()] = None,
) -> Any:
    report = await usage_reports.usage_report(
        runtime_of(request).engine, filters.of(principal), interval, group_by
    )
    if filters.format == "json":
        return report
    lines = [csv_line(_SERIES_COLUMNS)]
    lines.extend(csv_line(row.get(column) for column in _SERIES_COLUMNS) for row in report["series"])
    return csv_response("".join(lines), "usage")


@router.get(
    "/events",
    summary="This workspace's usage events, newest first (cursor pagination)",
    response_model=UsageEventList,
    responses=CSV_TOO,
)
async def events(
    request: Request,
    principal: Admin,
    filters: Annotated[Filters, Depends()],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Any:
    engine = runtime_of(request).engine
    where = filters.of(principal)
    try:
        # For CSV too the first page is read before the answer starts: a failure is still
        # an error answer, not a cut stream.
        data, next_cursor = await usage_reports.events_page(
            engine, where, limit=limit if filters.format == "json" else CSV_PAGE, cursor=cursor
        )
    except usage_reports.BadCursor as exc:
        raise InvalidRequest(str(exc), param="cursor") from None
    if filters.format == "json":
        return {"object": "list", "data": data, "next_cursor": next_cursor}

    async def all_pages() -> AsyncIterator[str]:
        yield csv_line(_EVENT_COLUMNS)
        page, page_cursor = data, next_cursor
        while True:
            yield "".join(csv_line(event.get(column) for column in _EVENT_COLUMNS) for event in page)
            if page_cursor is None:
                return
            page, page_cursor = await usage_reports.events_page(
                engine, where, limit=CSV_PAGE, cursor=page_cursor
            )

    return csv_response(all_pages(), "usage-events")
