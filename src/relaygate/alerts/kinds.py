"""The kinds of alert rule and their conditions, checked field by field (pure).

- ``budget_threshold``: a budget's spend this period reaches ``percent`` of its amount
  (a workspace, api key or identity budget).
- ``model_failing``: a model's circuit breaker is open, its last ``failures`` calls all
  failed, or its health is failing (model health's rules, periodic checks included);
  ``model`` a router id, or absent for every model of the workspace.
- ``error_rate``: over the last ``window_minutes``, more than ``max_percent`` of the calls
  failed (5xx or no answer), once at least ``min_calls`` calls were made; ``model`` a router
  id, or absent for the whole workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from relaygate.errors import InvalidRequest

AlertKind = Literal["budget_threshold", "model_failing", "error_rate"]
KINDS: tuple[str, ...] = get_args(AlertKind)
# The condition's fields of each kind: (name, minimum, maximum, default; None: required).
_NUMBERS: dict[str, tuple[tuple[str, float, float, float | None], ...]] = {
    "budget_threshold": (("percent", 1, 1000, 80),),
    "model_failing": (("failures", 1, 100, 3),),
    "error_rate": (
        ("max_percent", 0, 100, None),
        ("window_minutes", 1, 1440, 5),
        ("min_calls", 1, 100_000, 10),
    ),
}
_TEXTS: dict[str, tuple[tuple[str, bool], ...]] = {  # (name, required)
    "budget_threshold": (("budget_id", True),),
    "model_failing": (("model", False),),
    "error_rate": (("model", False),),
}
CONDITION_FIELDS = frozenset(name for fields in (*_NUMBERS.values(), *_TEXTS.values()) for name, *_ in fields)


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequest(f"{name} must be a number from {low:g} to {high:g}.", param=name)
    return int(value) if float(value).is_integer() else float(value)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 260:
        raise InvalidRequest(f"{name} must be a non-empty string of at most 260 characters.", param=name)
    return value


def condition(kind: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The stored condition of a rule of ``kind`` from the fields sent (others are refused)."""
    if kind not in KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(KINDS)}.", param="kind")
    known = {name for name, *_ in _NUMBERS[kind]} | {name for name, _ in _TEXTS[kind]}
    stray = sorted(name for name, value in given.items() if value is not None and name not in known)
    if stray:
        raise InvalidRequest(f"{stray[0]} is not a field of a {kind} rule.", param=stray[0])
    config: dict[str, Any] = {}
    for name, low, high, default in _NUMBERS[kind]:
        value = given.get(name)
        if value is None and default is None:
            raise InvalidRequest(f"A {kind} rule needs {name}.", param=name)
        config[name] = _number(name, value if value is not None else default, low, high)
    for name, required in _TEXTS[kind]:
        value = given.get(name)
        if value is None and required:
            raise InvalidRequest(f"A {kind} rule needs {name}.", param=name)
        if value is not None:
            config[name] = _text(name, value)
    return config


def threshold_of(kind: str, config: Mapping[str, Any]) -> float:
    """The number a rule's value is compared with."""
    name = {"budget_threshold": "percent", "model_failing": "failures", "error_rate": "max_percent"}[kind]
    return float(config[name])
