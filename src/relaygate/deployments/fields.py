"""The 400s of a deployment's content, and the checks every part of it is built from.

Every check names the field it refused the way a client writes it
(``variants[1].messages[0].content``), in ``param`` and in the message, so a client can
point at the field and a person can read what to change.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from relaygate.errors import InvalidRequest

Scalar = str | int | float | bool


def invalid(param: str, message: str, code: str = "invalid_deployment") -> InvalidRequest:
    return InvalidRequest(f"Invalid '{param}': {message}", param=param, code=code)


def at(where: str, name: str | int) -> str:
    """The path of a member: ``at("variants", 1)`` -> ``variants[1]``, ``at("", "model")`` -> ``model``."""
    if isinstance(name, int):
        return f"{where}[{name}]"
    return f"{where}.{name}" if where else name


def an_object(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(param, f"must be an object, got {type_name(value)}.")
    return value


def a_list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(param, f"must be a list, got {type_name(value)}.")
    return value


def text(value: Any, param: str, *, max_length: int | None = None, empty: bool = True) -> str:
    if not isinstance(value, str):
        raise invalid(param, f"must be a string, got {type_name(value)}.")
    if not empty and not value.strip():
        raise invalid(param, "must not be empty.")
    if max_length is not None and len(value) > max_length:
        raise invalid(param, f"must be at most {max_length} characters, got {len(value)}.")
    return value


def number(value: Any, param: str, low: float, high: float) -> None:
    finite = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not finite or not low <= value <= high:
        raise invalid(param, f"must be a number from {low:g} to {high:g}, got {value!r}.")


def integer(value: Any, param: str, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise invalid(param, f"must be an integer of at least {low}, got {value!r}.")


def is_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int | bool)


def only_known(value: Mapping[str, Any], known: Collection[str], where: str) -> None:
    """A 400 naming every key of ``value`` outside ``known`` (nothing sent is silently dropped)."""
    unknown = [name for name in value if name not in known]
    if unknown:
        listed = ", ".join(f"'{at(where, name)}'" for name in unknown)
        allowed = ", ".join(sorted(known))
        raise invalid(
            at(where, unknown[0]), f"unknown field {listed}; the fields here are: {allowed}.", "unknown_field"
        )


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )
