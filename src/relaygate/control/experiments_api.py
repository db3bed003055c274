"""HTTP glue for /v2/experiments: define, start, watch, pause, cancel, resume, delete; results.

Admin keys only; another workspace's experiment is a 404 like an unknown one. Creating
checks every reference (``experiment_checks.py``) and stores a draft; ``start`` makes one
item per datapoint x target and wakes this process's runner (``experiments/runner.py``),
which (or another process's) takes the run. ``pause`` lets the items in flight finish;
``cancel`` abandons them (a resume generates them again); ``resume`` runs what is left of
a paused, cancelled, failed or budget-stopped run, skipping every stored item.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from relaygate.catalog import Principal
from relaygate.errors import Conflict, InvalidRequest, NotFound
from relaygate.experiments import exports
from relaygate.experiments.aggregation import target_summaries
from relaygate.experiments.definition import RESUMABLE
from relaygate.experiments.progress import progress_events, progress_of
from relaygate.store import experiment_items as items
from relaygate.store import experiments as store
from relaygate.store.experiments import EmptyDataset, StoredExperiment
from relaygate.usage.pricing import nano_to_usd

from .auth import admin, runtime_of
from .dataset_transfers_api import format_of
from .dataset_views import list_object
from .datasets_api import NO_CONTENT, Page
from .experiment_checks import budget_nano, checked_definition
from .experiment_schemas import ExperimentCreate, ExperimentResume
from .experiment_views import experiment_object, target_labels

router = APIRouter(prefix="/v2/experiments", tags=["experiments"])
Admin = Annotated[Principal, Depends(admin)]
EXPORT_BATCH = 500
RESUMABLE_WORDS = "paused, cancelled, failed or budget_reached"


async def _found(request: Request, principal: Principal, experiment_id: str) -> StoredExperiment:
    found = await store.get_experiment(runtime_of(request).engine, principal.workspace_id, experiment_id)
    if found is None:
        raise NotFound(f"No experiment {experiment_id!r} in this workspace.", param="experiment_id")
    return found


def _not_now(experiment: StoredExperiment, action: str, allowed: str) -> Conflict:
    return Conflict(f"The experiment is {experiment.status}; {action} applies to {allowed} experiments.")


@router.post("", summary="Create an experiment (a draft; every reference checked)")
async def create_experiment(body: ExperimentCreate, request: Request, principal: Admin) -> dict[str, Any]:
    runtime = runtime_of(request)
    definition = await checked_definition(runtime, principal, body)
    experiment_id = await store.create_experiment(
        runtime.engine, principal.workspace_id, definition, principal.key_id
    )
    return experiment_object(await _found(request, principal, experiment_id))


@router.get("", summary="List this workspace's experiments (newest first)")
async def list_experiments(
    request: Request, principal: Admin, page: Annotated[Page, Depends()]
) -> dict[str, Any]:
    found, more = await store.list_experiments(
        runtime_of(request).engine, principal.workspace_id, page.request(newest_first=True)
    )
    return list_object([experiment_object(experiment) for experiment in found], more)


@router.get("/{experiment_id}", summary="An experiment, with its status and progress")
async def get_experiment(experiment_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    return experiment_object(await _found(request, principal, experiment_id))


@router.post("/{experiment_id}/start", summary="Start a draft: every datapoint x target, in the background")
async def start_experiment(experiment_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    runtime = runtime_of(request)
    experiment = await _found(request, principal, experiment_id)
    if experiment.status != "draft":
        raise Conflict(
            f"The experiment is {experiment.status}; only a draft starts (POST .../resume runs what is left)."
        )
    try:
        started = await store.start_experiment(runtime.engine, experiment, principal.key_id)
    except EmptyDataset:
        raise InvalidRequest(
            f"The dataset {experiment.dataset_id!r} has no datapoints (or was deleted): nothing to run.",
            param="dataset_id",
        ) from None
    if started is None:
        raise Conflict("The experiment was started (or deleted) meanwhile.")
    runtime.experiments.wake()
    return experiment_object(started)


@router.post("/{experiment_id}/pause", summary="Pause a run: items in flight finish, nothing new starts")
async def pause_experiment(experiment_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    runtime = runtime_of(request)
    paused = await store.pause(runtime.engine, principal.workspace_id, experiment_id)
    if paused is None:
        raise _not_now(await _found(request, principal, experiment_id), "pause", "running")
    runtime.experiments.halt(experiment_id, abandon=False)
    return experiment_object(paused)


@router.post("/{experiment_id}/cancel", summary="Cancel a run: items in flight are abandoned")
async def cancel_experiment(experiment_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    runtime = runtime_of(request)
    cancelled = await store.cancel(runtime.engine, principal.workspace_id, experiment_id)
    if cancelled is None:
        raise _not_now(await _found(request, principal, experiment_id), "cancel", "running or paused")
    runtime.experiments.halt(experiment_id, abandon=True)
    return experiment_object(cancelled)


@router.post(
    "/{experiment_id}/resume",
    summary="Resume a stopped run; stored items are not generated again, failed ones on request",
)
async def resume_experiment(
    experiment_id: str,
    request: Request,
    principal: Admin,
    body: Annotated[ExperimentResume | None, Body(description="A new budget_usd, optionally.")] = None,
) -> dict[str, Any]:
    runtime = runtime_of(request)
    experiment = await _found(request, principal, experiment_id)
    retry_failed = body is not None and body.retry_failed
    if retry_failed and experiment.status == "completed":
        if not experiment.failed:
            raise Conflict("The experiment completed with no failed item; there is nothing to run again.")
    elif experiment.status not in RESUMABLE:
        raise _not_now(experiment, "resume", RESUMABLE_WORDS)
    budget = (
        experiment.budget_nano if body is None or body.budget_usd is None else budget_nano(body.budget_usd)
    )
    if budget is not None and experiment.spend_nano >= budget:
        spent = float(nano_to_usd(experiment.spend_nano))
        raise InvalidRequest(
            f"The experiment has spent {spent:g} USD, its whole budget; resume it with a higher budget_usd.",
            param="budget_usd",
        )
    resumed = await store.resume(
        runtime.engine, principal.workspace_id, experiment_id, principal.key_id, budget, retry_failed
    )
    if resumed is None:
        raise _not_now(await _found(request, principal, experiment_id), "resume", RESUMABLE_WORDS)
    runtime.experiments.wake()
    return experiment_object(resumed)


@router.delete(
    "/{experiment_id}", summary="Delete an experiment and its results", status_code=204, responses=NO_CONTENT
)
async def delete_experiment(experiment_id: str, request: Request, principal: Admin) -> Response:
    runtime = runtime_of(request)
    if not await store.delete_experiment(runtime.engine, principal.workspace_id, experiment_id):
        raise NotFound(f"No experiment {experiment_id!r} in this workspace.", param="experiment_id")
    runtime.experiments.halt(experiment_id, abandon=True)
    return Response(status_code=204)


@router.get(
    "/{experiment_id}/results", summary="Results per datapoint x target, a page of datapoints at a time"
)
async def experiment_results(
    experiment_id: str,
    request: Request,
    principal: Admin,
    limit: Annotated[int, Query(ge=1, le=200, description="Datapoints per page.")] = 50,
    starting_after: Annotated[
        str | None, Query(max_length=64, description="The last datapoint_id seen.")
    ] = None,
) -> dict[str, Any]:
    experiment = await _found(request, principal, experiment_id)
    found, more = await items.results_page(
        runtime_of(request).engine, experiment.id, len(experiment.targets), limit, starting_after
    )
    return list_object(exports.datapoint_rows(found, target_labels(experiment)), more)


@router.get("/{experiment_id}/summary", summary="Per target: scores, pass rates, latency, cost, errors")
async def experiment_summary(experiment_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    experiment = await _found(request, principal, experiment_id)
    summaries = target_summaries(experiment.targets, target_labels(experiment), experiment.evaluators)
    async for batch in items.item_batches(runtime_of(request).engine, experiment.id):
        for item in batch:
            summaries[item.target].add(item.status, vars(item.result))
    return {
        "object": "experiment.summary",
        "experiment_id": experiment.id,
        "status": experiment.status,
        "progress": progress_of(experiment),
        "targets": [summary.as_dict() for summary in summaries],
    }


async def _export(request: Request, experiment: StoredExperiment, file_format: str) -> AsyncIterator[bytes]:
    labels = target_labels(experiment)
    evaluator_ids = [str(evaluator["id"]) for evaluator in experiment.evaluators]
    if file_format == "csv":
        yield exports.csv_header([str(evaluator["key"]) for evaluator in experiment.evaluators]).encode()
    async for batch in items.item_batches(runtime_of(request).engine, experiment.id, EXPORT_BATCH):
        if file_format == "csv":
            yield exports.csv_lines(batch, labels, evaluator_ids).encode()
        else:
            yield exports.jsonl_lines(batch, labels)


@router.get(
    "/{experiment_id}/export",
    summary="Every result as CSV or JSONL (streamed)",
    responses={200: {"content": {"text/csv": {}, "application/jsonl": {}}}},
)
async def export_results(
    experiment_id: str,
    request: Request,
    principal: Admin,
    format: Annotated[str, Query(max_length=64, description="csv or jsonl")] = "jsonl",
) -> StreamingResponse:
    experiment = await _found(request, principal, experiment_id)  # a 404 before any other answer
    file_format = format_of(format, "format parameter")
    media_type = "text/csv; charset=utf-8" if file_format == "csv" else "application/jsonl"
    headers = {"content-disposition": f'attachment; filename="experiment-{experiment.id}.{file_format}"'}
    return StreamingResponse(
        _export(request, experiment, file_format), media_type=media_type, headers=headers
    )


@router.get(
    "/{experiment_id}/events",
    summary="Progress as server-sent events: one per finished item, and status changes",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def experiment_events(
    experiment_id: str,
    request: Request,
    principal: Admin,
    since: Annotated[int, Query(ge=0, description="Send items finished after this many (0: all).")] = 0,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    experiment = await _found(request, principal, experiment_id)
    runtime = runtime_of(request)
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else since
    events = progress_events(
        runtime.engine, experiment, target_labels(experiment), start, lambda: runtime.drain.draining
    )
    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)
