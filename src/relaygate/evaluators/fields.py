"""Reading an evaluator's configuration field by field, each refusal a 400 naming the field.

``Fields`` wraps one JSON object of the request and where it sits (``function_params``),
so every check says which field it refused the way the client wrote it
(``function_params.keywords[2]``) in ``param`` and in the message.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any, TypeGuard

from relaygate.deployments.fields import type_name
from relaygate.errors import InvalidRequest


class InvalidEvaluator(InvalidRequest):
    default_code = "invalid_evaluator"

    def __init__(self, param: str, problem: str, code: str | None = None) -> None:
        super().__init__(f"Invalid '{param}': {problem}", param=param, code=code)


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class Fields:
    """The fields of one object of the request; ``where`` is its path ("" for the body)."""

    def __init__(self, values: Any, where: str) -> None:
        if not isinstance(values, dict):
            raise InvalidEvaluator(where or "body", f"must be an object, got {type_name(values)}.")
        self.values: Mapping[str, Any] = values
        self.where = where

    def path(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def invalid(self, name: str, problem: str, code: str | None = None) -> InvalidEvaluator:
        return InvalidEvaluator(self.path(name), problem, code)

    def given(self, name: str) -> bool:
        """Whether the field carries a value (a ``null`` reads as not given)."""
        return self.values.get(name) is not None

    def only(self, known: Collection[str]) -> None:
        """A 400 naming the first field outside ``known``, listing the fields this object takes."""
        for name in self.values:
            if name not in known:
                allowed = ", ".join(sorted(known))
                raise self.invalid(name, f"is not a field here; the fields are: {allowed}.", "unknown_field")

    def text(
        self, name: str, *, default: str | None = None, max_length: int = 4096, empty: bool = False
    ) -> str:
        value = self.values.get(name)
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            raise self.invalid(name, f"must be a string, got {type_name(value)}.")
        if not empty and not value.strip():
            raise self.invalid(name, "must not be empty.")
        if len(value) > max_length:
            raise self.invalid(name, f"must be at most {max_length} characters, got {len(value)}.")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name, default)
        if not isinstance(value, bool):
            raise self.invalid(name, f"must be true or false, got {type_name(value)}.")
        return value

    def number(self, name: str, low: float, high: float) -> float | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not is_number(value) or not low <= value <= high:
            raise self.invalid(name, f"must be a number from {low:g} to {high:g}, got {value!r}.")
        return float(value)

    def whole(self, name: str, low: int, high: int, default: int | None = None) -> int:
        value = self.values.get(name, default)
        if not is_number(value) or not float(value).is_integer() or not low <= value <= high:
            raise self.invalid(name, f"must be a whole number from {low} to {high}, got {value!r}.")
        return int(value)

    def strings(self, name: str, *, max_items: int, max_length: int = 1024) -> list[str]:
        value = self.values.get(name)
        if not isinstance(value, list) or not value:
            raise self.invalid(name, f"must be a non-empty list of strings, got {type_name(value)}.")
        if len(value) > max_items:
            raise self.invalid(name, f"lists at most {max_items} strings, got {len(value)}.")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item or len(item) > max_length:
                raise InvalidEvaluator(
                    f"{self.path(name)}[{index}]", f"must be a string of 1 to {max_length} characters."
                )
        return list(value)

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.values.get(name, default)
        if value not in allowed:
            raise self.invalid(name, f"must be one of {', '.join(allowed)}, got {value!r}.")
        return str(value)
