"""Wire shapes of model health: ``GET /v2/models/{id}/health``, the ``health`` summary of
each model object, and ``PATCH /v2/models/{id}`` (the periodic health check's setting).

The states and the rules that give them are in ``health_rules``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from relaygate.vocab import CircuitState

from .api_object import ApiObject, Omittable
from .health_rules import HealthState

MIN_INTERVAL_S = 30
MAX_INTERVAL_S = 86_400


class CircuitBreaker(ApiObject):
    """This process's breaker for the model's upstream (model objects, model health)."""

    state: CircuitState
    consecutive_failures: int
    opened_total: int
    retry_in_s: Omittable[float] = None  # only while open: seconds until a probe request may go
    failure_threshold: int
    cooldown_s: float


class HealthCheckResult(ApiObject):
    """One periodic health check: GET /models, then the model type's cheapest real call."""

    at: str
    ok: bool
    message: str
    status: Omittable[int] = None  # the upstream's HTTP status of the step that decided, when it answered
    latency_ms: Omittable[float] = None


class HealthCheckSetting(ApiObject):
    enabled: bool
    interval_seconds: int
    # Absent (never null: the setting is part of every model object) while disabled / before the first run.
    next_run_at: Omittable[str] = None
    last_run_at: Omittable[str] = None


class HealthWindow(ApiObject):
    window: Literal["5m", "24h"]
    seconds: int
    calls: int  # router calls of the model (cache hits excluded)
    errors: int  # calls the upstream failed (5xx other than 501, timeouts, unreachable)
    error_rate: float | None  # errors / calls; null without calls
    p50_ms: float | None  # latency of the calls answered below 400
    p95_ms: float | None


class LastOutcome(ApiObject):
    at: str
    source: Literal["call", "check"]
    status: int | None
    code: str | None
    message: str


class ModelHealth(ApiObject):
    """``GET /v2/models/{id}/health``: the live state and what it is judged by."""

    object: Literal["model.health"]
    model_id: str
    router_id: str
    state: HealthState
    reasons: list[str]
    computed_at: str
    breaker: CircuitBreaker
    windows: list[HealthWindow]
    last_success: LastOutcome | None
    last_error: LastOutcome | None
    health_check: HealthCheckSetting
    checks: list[HealthCheckResult]  # the kept results, newest first


class HealthSummary(ApiObject):
    """The ``health`` field of a model object: the state and the figures the list shows."""

    state: HealthState
    reasons: list[str]
    calls_5m: int
    error_rate_5m: Omittable[float] = None  # absent without calls (a model object sends no optional null)
    breaker_state: str  # closed | half_open | open (this process's breaker)
    last_check: Omittable[HealthCheckResult] = None
    health_check: HealthCheckSetting


class HealthCheckChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    interval_seconds: int = Field(default=300, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S)


class ModelSettingsUpdate(BaseModel):
    """``PATCH /v2/models/{id}``: settings of a model that need no new probe."""

    model_config = ConfigDict(extra="forbid")

    health_check: HealthCheckChange
