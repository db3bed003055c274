"""One item of a run: the datapoint asked of the target, the answer scored by every evaluator.

What goes wrong with the answer (the router refused the call, the upstream failed, the
stream ended with an error) fails the item, recorded with the error; what goes wrong in
an evaluator is that score's error (``EvaluatorEngine`` never raises). An item is never
left half done: whatever this code did not foresee fails the item too, logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from relaygate.catalog import Catalog, Principal
from relaygate.deployments.config import Release
from relaygate.evaluators.engine import Evaluator, EvaluatorEngine
from relaygate.evaluators.header_secrets import HeaderSecrets
from relaygate.evaluators.router_models import RouterEntry, RouterModels
from relaygate.store.experiment_items import ClaimedItem, ItemResult
from relaygate.upstream.transport import Transport

from .definition import Target, attribution
from .metering import MeteredModels, cost_nano, token_counts
from .requests import NoMessages, evaluation_input, request_body
from .streaming import StreamedAnswer, stream_call

log = logging.getLogger("relaygate.experiments")
DATAPOINT_DELETED = "The datapoint was deleted from the dataset before its answer was generated."


@dataclass(frozen=True)
class RunPlan:
    """What every item of one run shares: who it runs as, on what, scored by what."""

    experiment_id: str
    principal: Principal
    targets: Sequence[Target]
    pinned: Mapping[int, Release]  # target index -> its pinned deployment version
    evaluators: Sequence[Evaluator]
    parameters: Mapping[str, Any] | None


class ItemWork:
    def __init__(self, router: RouterEntry, catalog: Catalog, transport: Transport, plan: RunPlan) -> None:
        self._router = router
        self._catalog = catalog
        self._transport = transport
        self._plan = plan
        self._models = RouterModels(router, catalog, plan.principal)

    async def run(self, item: ClaimedItem) -> ItemResult:
        try:
            return await self._run(item)
        except Exception as exc:
            log.error(
                "experiment %s: item %s/%d failed unexpectedly",
                self._plan.experiment_id,
                item.datapoint_id,
                item.target,
                exc_info=exc,
            )
            return ItemResult("failed", error=f"relaygate could not run this item ({type(exc).__name__}).")

    async def _run(self, item: ClaimedItem) -> ItemResult:
        if item.datapoint is None:
            return ItemResult("failed", error=DATAPOINT_DELETED)
        plan = self._plan
        tags = attribution(plan.experiment_id, item.datapoint_id, item.target)
        try:
            body = request_body(
                plan.targets[item.target], item.datapoint, plan.parameters, tags, plan.pinned.get(item.target)
            )
        except NoMessages as exc:
            return ItemResult("failed", error=str(exc))
        answer = await stream_call(self._router, plan.principal, body)
        generated = self._generated(answer)
        if answer.error is not None:
            return ItemResult("failed", error=answer.error, **generated)
        scores, eval_cost = await self._scores(item.datapoint, answer.text, tags["metadata"])
        return ItemResult("done", output=answer.text, scores=scores, eval_cost_nano=eval_cost, **generated)

    def _generated(self, answer: StreamedAnswer) -> dict[str, Any]:
        prompt, completion, total = token_counts(answer.usage)
        workspace = self._plan.principal.workspace_id
        return {
            "latency_ms": round(answer.latency_ms, 3),
            "ttft_ms": None if answer.ttft_ms is None else round(answer.ttft_ms, 3),
            "prompt_tokens": prompt if answer.usage else None,
            "completion_tokens": completion if answer.usage else None,
            "total_tokens": total if answer.usage else None,
            "cost_nano": 0
            if answer.cache_hit
            else cost_nano(self._catalog, workspace, answer.model, answer.usage),
            "answered_by": answer.model,
            "deployment_version": answer.deployment_version,
        }

    async def _scores(
        self, datapoint: Mapping[str, Any], output: str, tags: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], int]:
        """Every evaluator's score of the answer (at once), and what their model calls cost."""
        if not self._plan.evaluators:
            return [], 0
        models = MeteredModels(self._models, self._catalog, self._plan.principal.workspace_id, tags)
        workspace = self._plan.principal.workspace_id
        engine = EvaluatorEngine(models, self._transport, HeaderSecrets(self._catalog.keyring, workspace))
        shown, expected = evaluation_input(datapoint), datapoint.get("expected_output")
        scores = await asyncio.gather(
            *(engine.evaluate(evaluator, shown, output, expected) for evaluator in self._plan.evaluators)
        )
        return [
            {
                "evaluator_id": evaluator.id,
                "key": evaluator.key,
                "version": evaluator.version,
                **score.as_dict(),
            }
            for evaluator, score in zip(self._plan.evaluators, scores, strict=True)
        ], models.cost_nano
