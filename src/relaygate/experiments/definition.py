"""What an experiment is made of, pure: its targets, statuses, parameters and limits.

A target is a router model (``{"model": "<router id>"}``) or a deployment
(``{"deployment": "<key>", "version": n}``; without a version, the deployment's current
version at each call). Every generation and every evaluator model call of a run is
attributed with the router's own fields: ``name`` ``experiment:<id>`` and ``metadata``
naming the experiment, the datapoint and the target, so usage reports find them and
datasets made from traffic leave them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from relaygate.errors import InvalidRequest

Status = Literal["draft", "running", "paused", "completed", "cancelled", "budget_reached", "failed"]
STATUSES: tuple[Status, ...] = (
    "draft",
    "running",
    "paused",
    "completed",
    "cancelled",
    "budget_reached",
    "failed",
)
RESUMABLE: tuple[Status, ...] = ("paused", "cancelled", "budget_reached", "failed")
PAUSABLE: tuple[Status, ...] = ("running",)
HALTABLE: tuple[Status, ...] = ("running", "paused")  # what cancel applies to

ItemStatus = Literal["pending", "claimed", "done", "failed"]
FINISHED: tuple[ItemStatus, ...] = ("done", "failed")

EXPERIMENT_CALL_PREFIX = "experiment:"  # the usage event's ``name`` of a run's calls
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32
MAX_TARGETS = 10
MAX_EVALUATORS = 20
MAX_PARAMETERS = 32
MAX_PARAMETERS_BYTES = 16 * 1024
# Set by the run itself (or meaningless for one answer per datapoint): never a parameter.
RESERVED_PARAMETERS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "n",
        "inputs",
        "context",
        "orq",
        "name",
        "metadata",
        "identity",
        "thread",
    }
)


@dataclass(frozen=True)
class Target:
    """One thing an experiment runs every datapoint on."""

    model: str | None = None
    deployment: str | None = None
    version: int | None = None  # a deployment's pinned version (None: its current one)

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> Target:
        version = stored.get("version")
        return cls(stored.get("model"), stored.get("deployment"), int(version) if version else None)

    @property
    def label(self) -> str:
        """``model:<router id>``, ``deployment:<key>`` or ``deployment:<key>@v<n>``."""
        if self.model is not None:
            return f"model:{self.model}"
        pinned = f"@v{self.version}" if self.version is not None else ""
        return f"deployment:{self.deployment}{pinned}"

    def stored(self) -> dict[str, Any]:
        if self.model is not None:
            return {"model": self.model}
        return {"deployment": self.deployment, "version": self.version}


@dataclass(frozen=True)
class PinnedEvaluator:
    """An evaluator at the version the experiment scores with (its current one at creation)."""

    id: str
    key: str
    version: int

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> PinnedEvaluator:
        return cls(str(stored["id"]), str(stored["key"]), int(stored["version"]))

    def stored(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "version": self.version}


def check_parameters(parameters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The chat parameters every generation of the run sends (temperature, max_tokens, ...),
    laid over a deployment's own; a 400 naming the parameter the run sets itself."""
    if parameters is None:
        return None
    if len(parameters) > MAX_PARAMETERS:
        raise InvalidRequest(
            f"parameters has {len(parameters)} entries; at most {MAX_PARAMETERS} are allowed.",
            param="parameters",
        )
    for name in parameters:
        if name in RESERVED_PARAMETERS:
            raise InvalidRequest(
                f"parameters.{name} is set by the experiment itself; leave it out.",
                param=f"parameters.{name}",
            )
    if len(orjson.dumps(dict(parameters))) > MAX_PARAMETERS_BYTES:
        raise InvalidRequest(
            f"parameters is larger than {MAX_PARAMETERS_BYTES} bytes of JSON.", param="parameters"
        )
    return dict(parameters)


def attribution(experiment_id: str, datapoint_id: str, target: int) -> dict[str, Any]:
    """The router's attribution fields of one generation (and its evaluators' calls)."""
    return {
        "name": f"{EXPERIMENT_CALL_PREFIX}{experiment_id}",
        "metadata": {
            "experiment_id": experiment_id,
            "datapoint_id": datapoint_id,
            "target": str(target),
        },
    }
