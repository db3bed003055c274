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
The rules that need no model lookup are ``deployments/routing_rules.py``'s, shared with
the deployments a workspace stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from relaygate.catalog import Catalog, RoutableModel
from relaygate.deployments.routing_rules import (
    DEFAULT_RETRY_CODES,
    invalid,
    is_number,
    model_list,
    object_field,
    parse_cache,
    parse_retry,
    parse_timeout,
)
from relaygate.router.endpoints import type_label

POLICY_FIELDS = ("retry", "fallbacks", "load_balancer", "timeout", "cache")
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


class _ModelResolver:
    """Looks up the models a plan names, in the caller's workspace, with the primary's type."""

    def __init__(self, catalog: Catalog, primary: RoutableModel, allowed: frozenset[str] | None) -> None:
        self._catalog = catalog
        self._primary = primary
        self._allowed = allowed

    def __call__(self, entry: Any, field: str) -> RoutableModel:
        item = object_field(entry, field, '{"model": "provider/model-id"}')
        name = item.get("model")
        if not isinstance(name, str) or not name:
            raise invalid(f"{field}.model", "must be a router model id like 'provider/model-id'.")
        model = self._catalog.model(self._primary.workspace_id, name)
        if model is None or (self._allowed is not None and name not in self._allowed):
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
    entries = model_list(value, "fallbacks", '[{"model": "provider/model-id"}]')
    return tuple(resolve(entry, f"fallbacks[{index}]") for index, entry in enumerate(entries))


def _parse_weight(entry: Any, field: str) -> float:
    weight = entry.get("weight", 1) if isinstance(entry, dict) else 1
    if not is_number(weight) or weight < 0:
        raise invalid(field, f"must be a number of at least 0, got {weight!r}.")
    return float(weight)


def _parse_load_balancer(value: Any, resolve: _ModelResolver) -> LoadBalancer:
    example = '{"type": "weight_based", "models": [{"model": "a/x", "weight": 0.7}, ...]}'
    balancer = object_field(value, "load_balancer", example)
    kind = balancer.get("type", "weight_based")
    if kind not in BALANCER_TYPES:
        raise invalid("load_balancer.type", f"must be one of {', '.join(BALANCER_TYPES)}, got {kind!r}.")
    entries = model_list(balancer.get("models"), "load_balancer.models", '[{"model": "a/x", "weight": 1}]')
    models: list[RoutableModel] = []
    weights: list[float] = []
    for index, entry in enumerate(entries):
        field = f"load_balancer.models[{index}]"
        models.append(resolve(entry, field))
        weights.append(_parse_weight(entry, f"{field}.weight"))
    if kind == "weight_based" and sum(weights) <= 0:
        raise invalid("load_balancer.models", "at least one weight must be above 0.")
    return LoadBalancer(kind, tuple(models), tuple(weights))


def parse_plan(
    routing: Mapping[str, Any],
    primary: RoutableModel,
    catalog: Catalog,
    allowed: frozenset[str] | None = None,
) -> RoutingPlan | None:
    """The plan for a call's routing fields; None when none of them steers the call.
    ``allowed``: the caller key's allow-list; a model outside it is refused as unknown."""
    if not any(key in routing for key in POLICY_FIELDS):
        return None
    resolve = _ModelResolver(catalog, primary, allowed)
    retries, codes = parse_retry(routing["retry"]) if "retry" in routing else (0, DEFAULT_RETRY_CODES)
    return RoutingPlan(
        retries=retries,
        retry_codes=codes,
        fallbacks=_parse_fallbacks(routing["fallbacks"], resolve) if "fallbacks" in routing else (),
        load_balancer=(
            _parse_load_balancer(routing["load_balancer"], resolve) if "load_balancer" in routing else None
        ),
        call_timeout=parse_timeout(routing["timeout"]) if "timeout" in routing else None,
        cache_ttl=parse_cache(routing["cache"]) if "cache" in routing else None,
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
