"""HTTP glue for /v2/models: shapes in, model objects out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from relaygate.catalog import Principal
from relaygate.errors import RelaygateError
from relaygate.sse import encode_event
from relaygate.store.records import Model
from relaygate.upstream.probe_findings import Check, CheckListener

from .auth import admin, runtime_of
from .health_protocol import ModelHealth, ModelSettingsUpdate
from .model_protocol import ModelDeleted, ModelList, ModelObject
from .model_view import model_object
from .schemas import CredentialsCheck, ModelCreate, ModelUpdate

router = APIRouter(prefix="/v2/models", tags=["models"])
Admin = Annotated[Principal, Depends(admin)]


def _wants_events(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def _event(name: str, data: Any) -> bytes:
    return encode_event(orjson.dumps(data), name)


async def _respond(
    request: Request, operation: Callable[[CheckListener | None], Awaitable[Model]]
) -> ModelObject | StreamingResponse:
    """Run a probing operation; with ``Accept: text/event-stream`` report each check live."""
    if not _wants_events(request):
        return model_object(await operation(None))
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def listener(check: Check) -> None:
        await queue.put(_event("check", asdict(check)))

    async def run() -> None:
        try:
            model = await operation(listener)
            await queue.put(_event("model", model_object(model).model_dump(mode="json")))
        except RelaygateError as error:
            await queue.put(_event("error", error.body()))
        finally:
            await queue.put(None)

    async def events() -> AsyncIterator[bytes]:
        task = asyncio.get_running_loop().create_task(run())
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return StreamingResponse(events(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


@router.post(
    "/openai-like",
    summary="Create an OpenAI-compatible model (probed before it is stored)",
    response_model=ModelObject,
)
async def create_model(body: ModelCreate, request: Request, principal: Admin) -> Any:
    service = runtime_of(request).models
    return await _respond(request, lambda listener: service.create(principal.workspace_id, body, listener))


@router.patch(
    "/openai-like/{model_id}",
    summary="Update a model (re-probed when its connection changes)",
    response_model=ModelObject,
)
async def update_model(model_id: str, body: ModelUpdate, request: Request, principal: Admin) -> Any:
    service = runtime_of(request).models
    return await _respond(
        request, lambda listener: service.update(principal.workspace_id, model_id, body, listener)
    )


@router.post(
    "/validate",
    summary="Check an upstream's address and API key without storing anything",
    response_class=Response,
    responses={
        200: {"description": "The upstream is reachable and accepts the key; the body is empty."},
        400: {
            "description": "Not reachable, key rejected or unverifiable, or no base_url (error.param says)."
        },
    },
)
async def validate_credentials(body: CredentialsCheck, request: Request, principal: Admin) -> Response:
    # Declared before the /{model_id} routes: "validate" is this path, never a model id.
    await runtime_of(request).models.check_credentials(principal.workspace_id, body)
    return Response(status_code=200)


@router.get("", summary="List this workspace's models")
async def list_models(request: Request, principal: Admin) -> ModelList:
    runtime = runtime_of(request)
    models = await runtime.models.list(principal.workspace_id)
    health = await runtime.health.summaries(principal.workspace_id, models)
    return ModelList(
        object="list",
        data=[model_object(model, runtime.breakers.state_of(model.id), health[model.id]) for model in models],
    )


async def _with_health(request: Request, model: Model) -> ModelObject:
    """The model object with relaygate's own additions to the seeds/003 object: this
    process's breaker for the upstream and the live health summary."""
    runtime = runtime_of(request)
    health = await runtime.health.summaries(model.workspace_id, [model])
    return model_object(model, runtime.breakers.state_of(model.id), health[model.id])


@router.get("/{model_id}", summary="Get one model")
async def get_model(model_id: str, request: Request, principal: Admin) -> ModelObject:
    return await _with_health(request, await runtime_of(request).models.get(principal.workspace_id, model_id))


@router.patch(
    "/{model_id}",
    summary="Change a model's settings that need no new probe (its periodic health check)",
    description="`health_check: {enabled, interval_seconds}` (at least 30 s): relaygate then calls the "
    "model every interval (GET /models and the type's cheapest real call, a 1-token chat for a chat "
    "model), keeps the last results and counts them in its health state. One process runs each check.",
)
async def update_model_settings(
    model_id: str, body: ModelSettingsUpdate, request: Request, principal: Admin
) -> ModelObject:
    runtime = runtime_of(request)
    model = await runtime.models.get(principal.workspace_id, model_id)
    setting = await runtime.health.set_check(model, body.health_check)
    if setting.enabled:
        runtime.health_checks.wake()
    return await _with_health(request, model)


@router.get(
    "/{model_id}/health",
    summary="A model's live health",
    description="State (ok, degraded, failing, breaker_open, unknown) with its reasons, calls, errors, "
    "error rate and p50/p95 latency over the last 5 minutes and 24 hours, the last success and the "
    "last error (of a call or a health check), the circuit breaker and the kept health check results.",
)
async def get_model_health(model_id: str, request: Request, principal: Admin) -> ModelHealth:
    runtime = runtime_of(request)
    return await runtime.health.health(await runtime.models.get(principal.workspace_id, model_id))


@router.delete(
    "/{model_id}",
    summary="Delete a model",
    description="Answers 409 (code `model_in_use`, `deployments` listing their keys) while the current "
    "version of a deployment uses the model as its model, a variant's model or a fallback; "
    "`?force=true` deletes it anyway, and those deployments fail at call time until changed.",
)
async def delete_model(
    model_id: str, request: Request, principal: Admin, force: Annotated[bool, Query()] = False
) -> ModelDeleted:
    await runtime_of(request).models.delete(principal.workspace_id, model_id, force=force)
    return ModelDeleted(id=model_id, object="model", deleted=True)


@router.post(
    "/{model_id}/validate",
    summary="Probe a stored model again and record the result",
    response_model=ModelObject,
)
async def validate_model(model_id: str, request: Request, principal: Admin) -> Any:
    service = runtime_of(request).models
    return await _respond(
        request, lambda listener: service.validate(principal.workspace_id, model_id, listener)
    )
