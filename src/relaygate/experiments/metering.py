"""What a run's calls cost, as it goes: the spend its budget is held to.

The router prices each call into its usage event off the request path; a run needs the
cost at once, to stop at its budget. It prices the same way (``usage.pricing``, the
answering model's prices in the catalog, the answer's token counts): a generation from its
stream's usage chunk and the ``x-relaygate-model`` header (the fallback that answered, if
one did), an evaluator's model call (a judge, an embedding model) from its answer.
A cached answer cost nothing, as in the usage event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relaygate.catalog import Catalog
from relaygate.evaluators.engine import ModelAccess
from relaygate.usage.pricing import token_cost_nano


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def token_counts(usage: Mapping[str, Any] | None) -> tuple[int, int, int]:
    """(prompt, completion, total) of an OpenAI ``usage`` object; an input-only answer's
    total (an embedding) is all prompt."""
    if not usage:
        return 0, 0, 0
    prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
    completion = usage.get("completion_tokens", usage.get("output_tokens"))
    total = usage.get("total_tokens")
    if prompt is None and completion is None:
        prompt = total
    counted = _count(prompt), _count(completion)
    return counted[0], counted[1], _count(total) if total is not None else sum(counted)


def cost_nano(
    catalog: Catalog, workspace_id: str, router_id: str | None, usage: Mapping[str, Any] | None
) -> int:
    """What the answer of ``router_id`` cost, from its usage (0 for a model without prices)."""
    model = catalog.model(workspace_id, router_id) if router_id else None
    if model is None:
        return 0
    prompt, completion, _ = token_counts(usage)
    return token_cost_nano(prompt, completion, model.input_cost, model.output_cost)


class MeteredModels:
    """The evaluators' ``ModelAccess`` for one item: each call tagged with the experiment
    (its usage event's ``metadata``) and priced into ``cost_nano``."""

    def __init__(
        self, models: ModelAccess, catalog: Catalog, workspace_id: str, tags: Mapping[str, str]
    ) -> None:
        self._models = models
        self._catalog = catalog
        self._workspace_id = workspace_id
        self._tags = dict(tags)
        self.cost_nano = 0

    def enforces_schemas(self, model: str) -> bool:
        return self._models.enforces_schemas(model)

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        metadata = body.get("metadata")
        tagged = {**body, "metadata": {**(metadata if isinstance(metadata, dict) else {}), **self._tags}}
        answer = await self._models.call(path, tagged)
        model, usage = answer.get("model"), answer.get("usage")
        self.cost_nano += cost_nano(
            self._catalog,
            self._workspace_id,
            model if isinstance(model, str) else None,
            usage if isinstance(usage, dict) else None,
        )
        return answer
