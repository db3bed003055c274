"""Scoring one answer with one evaluator: ``await engine.evaluate(evaluator, input, output, expected)``.

The one entry the API's test routes and an experiment runner call. The pure kinds score
in process; the embedding and judge kinds call the workspace's models through the data
plane (``router_models.RouterModels``: limits and usage apply, the usage event names the
evaluator); ``http_eval`` posts to the admin's scorer. Whatever goes wrong in an
evaluator (a model's error, a judge's unreadable answer, a scorer out of reach) comes
back as ``Score.error``, never as a score and never as an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from relaygate.crypto import CryptoError
from relaygate.upstream.transport import Transport

from . import http_eval, judge, similarity
from .functions import FUNCTIONS, json_schema_score
from .header_secrets import HeaderSecrets
from .kinds import EVALUATOR_CALL_PREFIX
from .router_models import ModelCallError
from .score import Sample, Score

_NEEDS_EXPECTED = frozenset({"exact_match", "embedding_similarity"})


@dataclass(frozen=True)
class Evaluator:
    """One version of a stored evaluator (or an unsaved definition being tried: id "")."""

    id: str
    key: str
    version: int
    content: Mapping[str, Any]  # {"kind", "description", "output_type", "config"}

    @property
    def kind(self) -> str:
        return str(self.content["kind"])


class ModelAccess(Protocol):
    """The workspace's models, reached through the router for one principal."""

    def enforces_schemas(self, model: str) -> bool: ...

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]: ...


def _attributed(body: dict[str, Any], evaluator: Evaluator) -> dict[str, Any]:
    """The router's own attribution fields: the usage event says which evaluator called."""
    metadata = {
        "relaygate_evaluator": evaluator.id or "unsaved",
        "relaygate_evaluator_version": str(evaluator.version),
    }
    return {**body, "name": f"{EVALUATOR_CALL_PREFIX}{evaluator.key}"[:128], "metadata": metadata}


class EvaluatorEngine:
    def __init__(self, models: ModelAccess, transport: Transport, headers: HeaderSecrets) -> None:
        self._models = models
        self._transport = transport
        self._headers = headers  # opens an http_eval's sealed header values

    async def evaluate(
        self, evaluator: Evaluator, input: Any, output: str, expected: str | None = None
    ) -> Score:
        """The score of ``output`` (the answer to ``input``, ``expected`` the reference)."""
        sample = Sample(input, output, expected)
        kind, config = evaluator.kind, evaluator.content["config"]
        if kind in _NEEDS_EXPECTED and expected is None:
            return Score.failed(
                f"A {kind} evaluator compares with the expected output, and this sample has none."
            )
        function = FUNCTIONS.get(kind)
        if function is not None:
            return function.score(config, sample)
        if kind == "json_schema":
            return json_schema_score(config, sample)
        try:
            if kind == "embedding_similarity":
                answer = await self._models.call(
                    "/embeddings", _attributed(similarity.request_body(config, sample), evaluator)
                )
                return similarity.read_answer(config, answer)
            if kind == "llm_eval":
                structured = self._models.enforces_schemas(config["model"])
                body = _attributed(judge.request_body(config, sample, structured), evaluator)
                return judge.read_answer(config, await self._models.call("/chat/completions", body))
            try:
                headers = self._headers.open(config["headers"])
            except (CryptoError, ValueError):
                return Score.failed(
                    "The http_eval evaluator's header values do not open under the configured master keys."
                )
            return await http_eval.call(self._transport, config, headers, sample)
        except ModelCallError as exc:
            return Score.failed(f"The {kind} evaluator's model call failed: {exc}")
        except (judge.JudgeAnswerError, similarity.EmbeddingAnswerError, http_eval.HttpEvalError) as exc:
            return Score.failed(f"The {kind} evaluator failed: {exc}.")
