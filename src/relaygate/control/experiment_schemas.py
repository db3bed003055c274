"""The bodies /v2/experiments takes. References (dataset, models, deployments, evaluators)
are checked against the workspace by ``experiment_checks.py``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from relaygate.experiments.definition import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, MAX_EVALUATORS, MAX_TARGETS

Budget = Annotated[
    float | None,
    Field(default=None, gt=0, le=1_000_000, description="USD; the run stops when its spend reaches it."),
]


class TargetIn(BaseModel):
    """``{"model": "<router id>"}`` or ``{"deployment": "<key>", "version": n}``."""

    model_config = ConfigDict(extra="forbid")

    model: Annotated[str | None, Field(default=None, min_length=1, max_length=260)] = None
    deployment: Annotated[str | None, Field(default=None, min_length=1, max_length=128)] = None
    version: Annotated[
        int | None, Field(default=None, ge=1, description="A deployment's version; else its current one.")
    ] = None


class ExperimentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=256)]
    dataset_id: Annotated[str, Field(min_length=1, max_length=64)]
    targets: Annotated[list[TargetIn], Field(min_length=1, max_length=MAX_TARGETS)]
    evaluators: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=128)]],
        Field(default_factory=list, max_length=MAX_EVALUATORS, description="Evaluator ids or keys."),
    ]
    parameters: Annotated[
        dict[str, Any] | None,
        Field(
            default=None, description="Chat parameters every generation sends (temperature, max_tokens, ...)."
        ),
    ] = None
    concurrency: Annotated[
        int,
        Field(
            default=DEFAULT_CONCURRENCY, ge=1, le=MAX_CONCURRENCY, description="Calls in flight per target."
        ),
    ] = DEFAULT_CONCURRENCY
    budget_usd: Budget = None


class ExperimentResume(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_usd: Budget = None
    retry_failed: bool = Field(
        default=False,
        description="Generate the items that failed again (a completed experiment may be resumed so).",
    )
