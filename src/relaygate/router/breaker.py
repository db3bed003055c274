"""A circuit breaker per upstream model, so a dead upstream does not cost every call its timeout.

    closed     calls go through; consecutive failures are counted
       | ``failures`` consecutive failures (connection error, timeout, 5xx other than 501)
       v
    open       calls skip this upstream (fallbacks are tried; a call with none gets 503)
       | ``cooldown`` seconds later
       v
    half_open  one call goes through as a probe: success closes, failure opens again

Any answer below 500 (429 included: the upstream is alive, only busy) counts as a
success. An upstream is one stored model (base URL + key + model id), keyed by the
model's id, so workspaces never share or see each other's breakers. The decision is
always local (one dict lookup for a call on a model with no history); with Redis, each
opening and closing is also announced to the other processes (``breaker_sync.py``), so
one process's evidence that an upstream is down spares all of them its timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from relaygate.catalog import RoutableModel
from relaygate.vocab import CircuitState


def is_upstream_failure(status: int) -> bool:
    """An answer that says the upstream itself is unwell (not the request, not a quota)."""
    return status >= 500 and status != 501


@dataclass(slots=True)
class _Circuit:
    model_id: str
    workspace_id: str
    router_id: str
    failures: int = 0
    opened_at: float | None = None
    probe_started: float | None = None
    opened_total: int = 0


@dataclass(frozen=True, slots=True)
class BreakerState:
    """One upstream's breaker as /metrics and the model API show it."""

    model_id: str
    workspace_id: str
    router_id: str
    state: CircuitState
    consecutive_failures: int
    opened_total: int  # how often this breaker has opened since the process started
    retry_in_s: float | None  # seconds until an open breaker lets a probe through

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "consecutive_failures": self.consecutive_failures,
            "opened_total": self.opened_total,
            "retry_in_s": self.retry_in_s,
        }


class Breakers:
    def __init__(
        self, failures: int, cooldown: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = failures  # 0 turns the breakers off
        self.cooldown = cooldown
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        # Called when a breaker opens (with its cool-down) or closes (None); never on the
        # way of a call that changes nothing. Set by BreakerSync when Redis is configured.
        self.on_change: Callable[[RoutableModel, float | None], None] | None = None

    # -- hot path -------------------------------------------------------------------

    def allow(self, model: RoutableModel) -> bool:
        """May a call go to this upstream now? In half-open state, only one probe at a time."""
        if not self._circuits:
            return True
        circuit = self._circuits.get(model.id)
        if circuit is None or circuit.opened_at is None:
            return True
        now = self._clock()
        if now - circuit.opened_at < self.cooldown:
            return False
        if circuit.probe_started is not None and now - circuit.probe_started < self.cooldown:
            return False  # a probe is under way (one that never reported back expires)
        circuit.probe_started = now
        return True

    def succeeded(self, model: RoutableModel) -> None:
        circuit = self._circuits.get(model.id)
        if circuit is not None and (circuit.failures or circuit.opened_at is not None):
            was_open = circuit.opened_at is not None
            circuit.failures = 0
            circuit.opened_at = circuit.probe_started = None
            if was_open and self.on_change is not None:
                self.on_change(model, None)

    def failed(self, model: RoutableModel) -> None:
        if self.threshold <= 0:
            return
        circuit = self._circuits.get(model.id)
        if circuit is None:
            circuit = self._circuits[model.id] = _Circuit(model.id, model.workspace_id, model.router_id)
        circuit.failures += 1
        probing = circuit.probe_started is not None
        if probing or (circuit.opened_at is None and circuit.failures >= self.threshold):
            if circuit.opened_at is None:
                circuit.opened_total += 1
            circuit.opened_at = self._clock()
            circuit.probe_started = None
            if self.on_change is not None:
                self.on_change(model, self.cooldown)

    def observe(self, model: RoutableModel, status: int) -> None:
        if status >= 500 and status != 501:  # is_upstream_failure, inlined for the hot path
            self.failed(model)
        elif self._circuits:
            self.succeeded(model)

    def apply_remote(self, model_id: str, workspace_id: str, router_id: str, open_for: float | None) -> None:
        """Another process opened this upstream's breaker for ``open_for`` more seconds, or
        closed it (None). Taken over as if seen here, without announcing it again."""
        circuit = self._circuits.get(model_id)
        if open_for is None:
            if circuit is not None:
                circuit.failures = 0
                circuit.opened_at = circuit.probe_started = None
            return
        if self.threshold <= 0:
            return
        if circuit is None:
            circuit = self._circuits[model_id] = _Circuit(model_id, workspace_id, router_id)
        if circuit.opened_at is None:
            circuit.opened_total += 1
        circuit.failures = max(circuit.failures, self.threshold)
        circuit.opened_at = self._clock() - max(0.0, self.cooldown - open_for)
        circuit.probe_started = None

    def retry_in(self, model: RoutableModel) -> float:
        """Seconds until this upstream takes a probe again (0 when it would now)."""
        circuit = self._circuits.get(model.id)
        if circuit is None or circuit.opened_at is None:
            return 0.0
        since = circuit.probe_started if circuit.probe_started is not None else circuit.opened_at
        return max(0.0, self.cooldown - (self._clock() - since))

    # -- reporting ------------------------------------------------------------------

    def _state(self, circuit: _Circuit) -> BreakerState:
        name: CircuitState
        if circuit.opened_at is None:
            name, retry_in = "closed", None
        else:
            retry_in = round(max(0.0, self.cooldown - (self._clock() - circuit.opened_at)), 3)
            name = "open" if retry_in > 0 else "half_open"
        return BreakerState(
            circuit.model_id,
            circuit.workspace_id,
            circuit.router_id,
            name,
            circuit.failures,
            circuit.opened_total,
            retry_in if name == "open" else None,
        )

    def state_of(self, model_id: str) -> dict[str, Any]:
        """The breaker of one stored model, for ``GET /v2/models/{id}``."""
        circuit = self._circuits.get(model_id)
        if circuit is None:
            state = {"state": "closed", "consecutive_failures": 0, "opened_total": 0, "retry_in_s": None}
        else:
            state = self._state(circuit).as_dict()
        return {**state, "failure_threshold": self.threshold, "cooldown_s": self.cooldown}

    def snapshot(self) -> list[BreakerState]:
        """Every upstream that has failed since start-up; upstreams not listed are closed."""
        return [self._state(circuit) for circuit in list(self._circuits.values())]
