"""HTTP glue for /v2/evaluators: the hosted product's evaluator routes, versions, and tests.

A definition is checked whole (``evaluators/config.py``) and against the workspace (its
models, deployments, the SSRF rules) before it is stored. Every update that changes
something makes a new version; one that changes nothing answers the current evaluator.
An evaluator is named by its id or its key. ``POST /v2/evaluators/{id}/test`` scores a
sample with a stored evaluator, ``POST /v2/evaluators/test`` with an unsaved definition
(to try one before saving it); a model call they make is the caller's, with its limits
and usage.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from relaygate.catalog import Principal
from relaygate.errors import Conflict, InvalidRequest, NotFound
from relaygate.evaluators.config import Definition, check_references, parse_definition, updated_definition
from relaygate.evaluators.engine import Evaluator
from relaygate.evaluators.header_secrets import sealed_content
from relaygate.store import evaluators as store
from relaygate.store.evaluators import StoredEvaluator
from relaygate.store.repository import DuplicateError

from .auth import admin, runtime_of
from .dataset_views import list_object
from .datasets_api import NO_CONTENT, Page
from .evaluator_services import engine_for, evaluator_of, header_secrets, workspace_of
from .evaluator_views import evaluator_object, version_object

router = APIRouter(prefix="/v2/evaluators", tags=["evaluators"])
Admin = Annotated[Principal, Depends(admin)]
Definitions = Annotated[
    dict[str, Any],
    Body(
        description="The hosted product's evaluator body: type (function_eval, json_schema, llm_eval, "
        "http_eval) and its fields; see the README's 'Datasets and evaluators'.",
        examples=[
            {
                "type": "function_eval",
                "key": "mentions-refund",
                "function_params": {"type": "contains_any", "keywords": ["refund"]},
            },
            {
                "type": "llm_eval",
                "key": "tone",
                "mode": "single",
                "model": "openai/gpt-4o",
                "prompt": "Rate the tone of {{output}}",
                "output_type": "number",
                "min": 1,
                "max": 5,
            },
        ],
    ),
]
UNSAVED_KEY = "unsaved"
VERSION_INCREMENTS = ("major", "minor", "patch")


class SampleIn(BaseModel):
    """One answer to score: what was asked (text or JSON), the answer, the reference answer."""

    model_config = ConfigDict(extra="forbid")

    input: Any = None
    output: Annotated[str, Field(max_length=1_000_000)]
    expected: Annotated[str | None, Field(max_length=1_000_000)] = None


def _sample(value: Any) -> SampleIn:
    """The unsaved test's ``sample``, checked like the stored test's body."""
    try:
        return SampleIn.model_validate(value)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in ("sample", *problem["loc"]))
        raise InvalidRequest(
            f'{where}: {problem["msg"]} (the sample is {{"input", "output", "expected"}}).', param=where
        ) from None


def _no_evaluator(name: str) -> NotFound:
    return NotFound(f"No evaluator {name!r} in this workspace.", param="id")


async def _found(request: Request, principal: Principal, name: str) -> StoredEvaluator:
    found = await store.get_evaluator(runtime_of(request).engine, principal.workspace_id, name)
    if found is None:
        raise _no_evaluator(name)
    return found


async def _checked(request: Request, principal: Principal, definition: Definition) -> Definition:
    await check_references(definition.content, workspace_of(runtime_of(request), principal))
    return definition


def _version_note(body: dict[str, Any]) -> str | None:
    increment = body.get("versionIncrement")
    if increment is not None and increment not in VERSION_INCREMENTS:
        raise InvalidRequest(
            f"versionIncrement must be one of {', '.join(VERSION_INCREMENTS)}.", param="versionIncrement"
        )
    note = body.get("versionDescription")
    if note is not None and (not isinstance(note, str) or len(note) > 256):
        raise InvalidRequest(
            "versionDescription must be a string of at most 256 characters.", param="versionDescription"
        )
    return note


async def _score(
    request: Request, principal: Principal, evaluator: Evaluator, sample: SampleIn
) -> dict[str, Any]:
    engine = engine_for(runtime_of(request), principal)
    score = await engine.evaluate(evaluator, sample.input, sample.output, sample.expected)
    return {
        "object": "evaluation",
        "evaluator_id": evaluator.id or None,
        "key": evaluator.key,
        "version": evaluator.version,
        "kind": evaluator.kind,
        **score.as_dict(),
    }


@router.get("", summary="List this workspace's evaluators")
async def list_evaluators(
    request: Request,
    principal: Admin,
    page: Annotated[Page, Depends()],
    search: Annotated[str | None, Query(max_length=128, description="Part of the key.")] = None,
    sort: Annotated[Literal["asc", "desc"], Query(description="desc: newest first.")] = "desc",
    project_id: Annotated[str | None, Query(max_length=64, description="The workspace's id.")] = None,
) -> dict[str, Any]:
    if project_id is not None and project_id != principal.workspace_id:
        return list_object([], False)
    found, more = await store.list_evaluators(
        runtime_of(request).engine,
        principal.workspace_id,
        page.request(newest_first=sort == "desc"),
        search=search,
    )
    return list_object([evaluator_object(evaluator) for evaluator in found], more)


@router.post("", summary="Create an evaluator (its configuration checked)")
async def create_evaluator(body: Definitions, request: Request, principal: Admin) -> dict[str, Any]:
    definition = await _checked(request, principal, parse_definition(body))
    try:
        stored = await store.create_evaluator(
            runtime_of(request).engine,
            principal.workspace_id,
            definition.key,
            sealed_content(definition.content, header_secrets(runtime_of(request), principal)),
            principal.key_id,
        )
    except DuplicateError as exc:
        raise Conflict(f"{exc}; choose another key.", param="key") from None
    return evaluator_object(stored)


@router.post("/test", summary="Score a sample with an unsaved evaluator (its create body plus 'sample')")
async def test_unsaved_evaluator(body: Definitions, request: Request, principal: Admin) -> dict[str, Any]:
    fields = dict(body)
    sample = _sample(fields.pop("sample", None))
    definition = await _checked(request, principal, parse_definition({"key": UNSAVED_KEY, **fields}))
    return await _score(request, principal, Evaluator("", definition.key, 0, definition.content), sample)


@router.get("/{evaluator_id}", summary="Get an evaluator (by id or key)")
async def get_evaluator(evaluator_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    return evaluator_object(await _found(request, principal, evaluator_id), detailed=True)


@router.patch("/{evaluator_id}", summary="Change an evaluator: a new version")
async def update_evaluator(
    evaluator_id: str, body: Definitions, request: Request, principal: Admin
) -> dict[str, Any]:
    current = await _found(request, principal, evaluator_id)
    note = _version_note(body)
    definition = updated_definition(current.key, current.content, body)
    if definition.key == current.key and definition.content == current.content:
        return evaluator_object(current)
    await _checked(request, principal, definition)
    try:
        runtime = runtime_of(request)
        content = sealed_content(definition.content, header_secrets(runtime, principal))
        updated = await store.add_version(
            runtime.engine, current, definition.key, content, note, principal.key_id
        )
    except DuplicateError as exc:
        raise Conflict(f"{exc}; choose another key.", param="key") from None
    if updated is None:
        raise Conflict("The evaluator changed (or was deleted) while this update was made; try again.")
    return evaluator_object(updated)


@router.delete(
    "/{evaluator_id}", summary="Delete an evaluator and its versions", status_code=204, responses=NO_CONTENT
)
async def delete_evaluator(evaluator_id: str, request: Request, principal: Admin) -> Response:
    if not await store.delete_evaluator(runtime_of(request).engine, principal.workspace_id, evaluator_id):
        raise _no_evaluator(evaluator_id)
    return Response(status_code=204)


@router.get("/{evaluator_id}/versions", summary="An evaluator's versions, newest first")
async def list_versions(
    evaluator_id: str, request: Request, principal: Admin, page: Annotated[Page, Depends()]
) -> dict[str, Any]:
    current = await _found(request, principal, evaluator_id)
    found, more = await store.list_versions(
        runtime_of(request).engine, current.id, page.request(newest_first=True)
    )
    return list_object([version_object(version) for version in found], more)


@router.get("/{evaluator_id}/versions/{version_id}", summary="One version (by its id or number)")
async def get_version(
    evaluator_id: str, version_id: str, request: Request, principal: Admin
) -> dict[str, Any]:
    current = await _found(request, principal, evaluator_id)
    version = await store.get_version(runtime_of(request).engine, current.id, version_id)
    if version is None:
        raise NotFound(f"The evaluator has no version {version_id!r}.", param="version_id")
    return version_object(version)


@router.post("/{evaluator_id}/test", summary="Score a sample with a stored evaluator")
async def test_evaluator(
    evaluator_id: str, sample: SampleIn, request: Request, principal: Admin
) -> dict[str, Any]:
    stored = await _found(request, principal, evaluator_id)
    return await _score(request, principal, evaluator_of(stored), sample)
