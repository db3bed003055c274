"""The request's routing fields, checked once per call and turned into a plan.

``call.extract_routing()`` pops the fields (top level or nested under ``orq``) into
``PreparedCall.routing``; this module validates the ones that steer the call:

    retry          {count: 1-5, on_codes: [..]}          (codes default to [429])
    fallbacks      [{model}, ...]                        (at most 10)
    load_balancer  {type: weight_based | round_robin, models: [{model, weight}]}
    timeout        {call_timeout: ms}
    cache          {type: exact_match, ttl: seconds}     (default 1800, max 259200)

A bad field is a 400 whose ``param`` names it (``retry.count``,
``load_balancer.models[1].weight``, ``fallbacks[0].model``). Models named in fallbacks
or a load balancer are looked up in the caller's workspace only, so another workspace's
model reads exactly like a model that does not exist; they must have the type of the
request's model. A request without these fields gets no plan and pays one dict check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from relaygate.catalog import Catalog, RoutableModel
from relaygate.errors import InvalidRequest
from relaygate.router.endpoints import type_label

POLICY_FIELDS = ("retry", "fallbacks", "load_balancer", "timeout", "cache")
NEVER_RETRIED = frozenset({400, 401, 403, 404, 501})
DEFAULT_RETRY_CODES = frozenset({429})
MAX_RETRIES = 5
MAX_MODELS = 10
DEFAULT_CACHE_TTL = 1800
MAX_CACHE_TTL = 259_200
MAX_CALL_TIMEOUT_MS = 3_600_000
BALANCER_TYPES = ("weight_based", "round_robin")


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    kind: str  # weight_based | round_robin
    models: tuple[RoutableModel, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class RoutingPlan:
    retries: int = 0
    retry_codes: frozenset[int] = DEFAULT_RETRY_CODES
    fallbacks: tuple[RoutableModel, ...] = ()
    load_balancer: LoadBalancer | None = None
    call_timeout: float | None = None  # seconds, per attempt
    cache_ttl: int | None = None  # None: the request did not ask for the cache

    def alternatives(self, primary: RoutableModel) -> list[RoutableModel]:
        """The models other than ``primary`` this plan may send the call to."""
        balanced = self.load_balancer.models if self.load_balancer is not None else ()
        return [model for model in (*balanced, *self.fallbacks) if model is not primary]


def invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid routing field '{field}': {message}", param=field, code="invalid_routing")


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _object(value: Any, field: str, example: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, f"must be an object like {example}.")
    return value


def _list(value: Any, field: str, example: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise invalid(field, f"must be a non-empty list like {example}.")
    if len(value) > MAX_MODELS:
        raise invalid(field, f"lists at most {MAX_MODELS} entries, got {len(value)}.")
    return value


def _parse_retry(value: Any) -> tuple[int, frozenset[int]]:
    retry = _object(value, "retry", '{"count": 3, "on_codes": [429, 503]}')
    count = retry.get("count")
    if not _is_int(count) or not 1 <= count <= MAX_RETRIES:
        raise invalid("retry.count", f"must be an integer from 1 to {MAX_RETRIES}, got {count!r}.")
    codes = retry.get("on_codes")
    if codes is None:
        return count, DEFAULT_RETRY_CODES
    if not isinstance(codes, list):
        raise invalid("retry.on_codes", "must be a list of HTTP status codes like [429, 503].")
    for index, code in enumerate(codes):
        if not _is_int(code) or not 400 <= code <= 599:
            raise invalid(
                f"retry.on_codes[{index}]", f"must be an HTTP error status (400-599), got {code!r}."
            )
    # 400, 401, 403, 404 and 501 are definitive answers: retrying them cannot succeed.
    return count, frozenset(codes) - NEVER_RETRIED


class _ModelResolver:
    """Looks up the models a plan names, in the caller's workspace, with the primary's type."""

    def __init__(self, catalog: Catalog, primary: RoutableModel) -> None:
        self._catalog = catalog
        self._primary = primary

    def __call__(self, entry: Any, field: str) -> RoutableModel:
        item = _object(entry, field, '{"model": "provider/model-id"}')
        name = item.get("model")
        if not isinstance(name, str) or not name:
            raise invalid(f"{field}.model", "must be a router model id like 'provider/model-id'.")
        model = self._catalog.model(self._primary.workspace_id, name)
        if model is None:
            raise invalid(
                f"{field}.model", f"the model '{name}' does not exist or you do not have access to it."
            )
        if model.model_type != self._primary.model_type:
            raise invalid(
                f"{field}.model",
                f"'{name}' is {type_label(model.model_type)} but '{self._primary.router_id}' is "
                f"{type_label(self._primary.model_type)}; every model of one call must have the same type.",
            )
        return model


def _parse_fallbacks(value: Any, resolve: _ModelResolver) -> tuple[RoutableModel, ...]:
    entries = _list(value, "fallbacks", '[{"model": "provider/model-id"}]')
    return tuple(resolve(entry, f"fallbacks[{index}]") for index, entry in enumerate(entries))


def _parse_weight(entry: Any, field: str) -> float:
    weight = entry.get("weight", 1) if isinstance(entry, dict) else 1
    if not _is_number(weight) or weight < 0:
        raise invalid(field, f"must be a number of at least 0, got {weight!r}.")
    return float(weight)


def _parse_load_balancer(value: Any, resolve: _ModelResolver) -> LoadBalancer:
    example = '{"type": "weight_based", "models": [{"model": "a/x", "weight": 0.7}, ...]}'
    balancer = _object(value, "load_balancer", example)
    kind = balancer.get("type", "weight_based")
    if kind not in BALANCER_TYPES:
        raise invalid("load_balancer.type", f"must be one of {', '.join(BALANCER_TYPES)}, got {kind!r}.")
    entries = _list(balancer.get("models"), "load_balancer.models", '[{"model": "a/x", "weight": 1}]')
    models: list[RoutableModel] = []
    weights: list[float] = []
    for index, entry in enumerate(entries):
        field = f"load_balancer.models[{index}]"
        models.append(resolve(entry, field))
        weights.append(_parse_weight(entry, f"{field}.weight"))
    if kind == "weight_based" and sum(weights) <= 0:
        raise invalid("load_balancer.models", "at least one weight must be above 0.")
    return LoadBalancer(kind, tuple(models), tuple(weights))


def _parse_timeout(value: Any) -> float:
    timeout = _object(value, "timeout", '{"call_timeout": 30000}')
    millis = timeout.get("call_timeout")
    if not _is_number(millis) or not 0 < millis <= MAX_CALL_TIMEOUT_MS:
        raise invalid(
            "timeout.call_timeout",
            f"must be a number of milliseconds above 0 and at most {MAX_CALL_TIMEOUT_MS}, got {millis!r}.",
        )
    return float(millis) / 1000


def _parse_cache(value: Any) -> int:
    cache = _object(value, "cache", '{"type": "exact_match", "ttl": 3600}')
    if cache.get("type") != "exact_match":
        raise invalid("cache.type", f"must be 'exact_match', got {cache.get('type')!r}.")
    ttl = cache.get("ttl", DEFAULT_CACHE_TTL)
    if _is_number(ttl) and float(ttl).is_integer():
        ttl = int(ttl)
    if not _is_int(ttl) or not 1 <= ttl <= MAX_CACHE_TTL:
        raise invalid(
            "cache.ttl", f"must be a whole number of seconds from 1 to {MAX_CACHE_TTL}, got {ttl!r}."
        )
    return int(ttl)


def parse_plan(routing: Mapping[str, Any], primary: RoutableModel, catalog: Catalog) -> RoutingPlan | None:
    """The plan for a call's routing fields; None when none of them steers the call."""
    if not any(key in routing for key in POLICY_FIELDS):
        return None
    resolve = _ModelResolver(catalog, primary)
    retries, codes = _parse_retry(routing["retry"]) if "retry" in routing else (0, DEFAULT_RETRY_CODES)
    return RoutingPlan(
        retries=retries,
        retry_codes=codes,
        fallbacks=_parse_fallbacks(routing["fallbacks"], resolve) if "fallbacks" in routing else (),
        load_balancer=(
            _parse_load_balancer(routing["load_balancer"], resolve) if "load_balancer" in routing else None
        ),
        call_timeout=_parse_timeout(routing["timeout"]) if "timeout" in routing else None,
        cache_ttl=_parse_cache(routing["cache"]) if "cache" in routing else None,
    )


def pick_weighted(weights: Sequence[float], draw: float) -> int:
    """The index chosen by a uniform ``draw`` in [0, 1) with probability weight / sum(weights)."""
    target = draw * sum(weights)
    running = 0.0
    for index, weight in enumerate(weights):
        running += weight
        if target < running:
            return index
    return max(index for index, weight in enumerate(weights) if weight > 0)
