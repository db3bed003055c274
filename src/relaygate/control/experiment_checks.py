"""An experiment's definition checked against its workspace before it is stored.

Every reference must resolve in the caller's workspace, else a 400 naming the field
(``dataset_id``, ``targets[1].version``, ``evaluators[0]``): the dataset; each model
target a chat model; each deployment (and a pinned version of it); each evaluator, pinned
at its current version so a later change to it does not change this experiment's scores.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from relaygate.catalog import Principal
from relaygate.errors import InvalidRequest
from relaygate.experiments.definition import PinnedEvaluator, Target, check_parameters
from relaygate.runtime import Runtime
from relaygate.store import datasets as dataset_store
from relaygate.store import deployments as deployment_store
from relaygate.store import evaluators as evaluator_store
from relaygate.usage.pricing import to_nano

from .experiment_schemas import ExperimentCreate, TargetIn


def budget_nano(budget_usd: float | None) -> int | None:
    return None if budget_usd is None else to_nano(Decimal(str(budget_usd)))


async def _target(runtime: Runtime, workspace_id: str, index: int, given: TargetIn) -> Target:
    where = f"targets[{index}]"
    if (given.model is None) == (given.deployment is None):
        raise InvalidRequest(
            f'{where} must name a model ({{"model": "<router id>"}}) or a deployment '
            f'({{"deployment": "<key>", "version": n}}), one of them.',
            param=where,
        )
    if given.model is not None:
        if given.version is not None:
            raise InvalidRequest(f"{where}.version applies to a deployment target.", param=f"{where}.version")
        model = await runtime.catalog.find_model(workspace_id, given.model)
        if model is None:
            raise InvalidRequest(
                f"{where}.model: no model {given.model!r} in this workspace.", param=f"{where}.model"
            )
        if model.model_type != "chat":
            raise InvalidRequest(
                f"{where}.model: {given.model!r} is a {model.model_type} model; "
                "an experiment's model targets are chat models.",
                param=f"{where}.model",
            )
        return Target(model=given.model)
    key = str(given.deployment)
    release = await runtime.catalog.find_deployment(workspace_id, key)
    if release is None:
        raise InvalidRequest(
            f"{where}.deployment: no deployment {key!r} in this workspace.", param=f"{where}.deployment"
        )
    pinned = given.version
    if pinned is not None and await deployment_store.get_version(runtime.engine, release.id, pinned) is None:
        raise InvalidRequest(
            f"{where}.version: the deployment {key!r} has no version {pinned} "
            f"(its current version is {release.version}).",
            param=f"{where}.version",
        )
    return Target(deployment=key, version=given.version)


async def _evaluator(runtime: Runtime, workspace_id: str, index: int, name: str) -> PinnedEvaluator:
    found = await evaluator_store.get_evaluator(runtime.engine, workspace_id, name)
    if found is None:
        raise InvalidRequest(
            f"evaluators[{index}]: no evaluator {name!r} in this workspace.", param=f"evaluators[{index}]"
        )
    return PinnedEvaluator(found.id, found.key, found.version)


async def checked_definition(
    runtime: Runtime, principal: Principal, body: ExperimentCreate
) -> dict[str, Any]:
    """The experiments row's definition columns, every reference resolved."""
    workspace_id = principal.workspace_id
    if await dataset_store.get_dataset(runtime.engine, workspace_id, body.dataset_id) is None:
        raise InvalidRequest(
            f"dataset_id: no dataset {body.dataset_id!r} in this workspace.", param="dataset_id"
        )
    targets: list[Target] = []
    for index, given in enumerate(body.targets):
        target = await _target(runtime, workspace_id, index, given)
        if target in targets:
            raise InvalidRequest(
                f"targets[{index}] repeats targets[{targets.index(target)}].", param=f"targets[{index}]"
            )
        targets.append(target)
    evaluators: list[PinnedEvaluator] = []
    for index, name in enumerate(body.evaluators):
        evaluator = await _evaluator(runtime, workspace_id, index, name)
        if evaluator in evaluators:
            raise InvalidRequest(
                f"evaluators[{index}] repeats an evaluator listed before.", param=f"evaluators[{index}]"
            )
        evaluators.append(evaluator)
    return {
        "name": body.name,
        "dataset_id": body.dataset_id,
        "targets": [target.stored() for target in targets],
        "evaluators": [evaluator.stored() for evaluator in evaluators],
        "parameters": check_parameters(body.parameters),
        "concurrency": body.concurrency,
        "budget_nano": budget_nano(body.budget_usd),
    }
