"""The routing fields' rules that need no model lookup: ``retry``, ``timeout``, ``cache`` and
the shape of a model list.

Written once for both places that check them: the router, for a call's own routing
fields (``router/routing.py``, per call), and the control plane, for a deployment's
stored policy (``deployments/validation.py``, when a version is saved), so a policy a
deployment stores is exactly one the router accepts. Pure: no catalog, no store.

A bad field is a 400 whose ``param`` names it (``retry.count``, ``cache.ttl``).
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

from relaygate.errors import InvalidRequest

NEVER_RETRIED = frozenset({400, 401, 403, 404, 501})
DEFAULT_RETRY_CODES = frozenset({429})
MAX_RETRIES = 5
MAX_MODELS = 10
DEFAULT_CACHE_TTL = 1800
MAX_CACHE_TTL = 259_200
MAX_CALL_TIMEOUT_MS = 3_600_000


def invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid routing field '{field}': {message}", param=field, code="invalid_routing")


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def object_field(value: Any, field: str, example: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, f"must be an object like {example}.")
    return value


def model_list(value: Any, field: str, example: str) -> list[Any]:
    """A non-empty list of at most ``MAX_MODELS`` entries (fallbacks, a balancer's models)."""
    if not isinstance(value, list) or not value:
        raise invalid(field, f"must be a non-empty list like {example}.")
    if len(value) > MAX_MODELS:
        raise invalid(field, f"lists at most {MAX_MODELS} entries, got {len(value)}.")
    return value


def parse_retry(value: Any) -> tuple[int, frozenset[int]]:
    """``{count: 1-5, on_codes: [..]}`` -> (count, the codes retried; [429] when none given)."""
    retry = object_field(value, "retry", '{"count": 3, "on_codes": [429, 503]}')
    count = retry.get("count")
    if not is_int(count) or not 1 <= count <= MAX_RETRIES:
        raise invalid("retry.count", f"must be an integer from 1 to {MAX_RETRIES}, got {count!r}.")
    codes = retry.get("on_codes")
    if codes is None:
        return count, DEFAULT_RETRY_CODES
    if not isinstance(codes, list):
        raise invalid("retry.on_codes", "must be a list of HTTP status codes like [429, 503].")
    for index, code in enumerate(codes):
        if not is_int(code) or not 400 <= code <= 599:
            raise invalid(
                f"retry.on_codes[{index}]", f"must be an HTTP error status (400-599), got {code!r}."
            )
    # 400, 401, 403, 404 and 501 are definitive answers: retrying them cannot succeed.
    return count, frozenset(codes) - NEVER_RETRIED


def parse_timeout(value: Any) -> float:
    """``{call_timeout: ms}`` -> seconds per attempt."""
    timeout = object_field(value, "timeout", '{"call_timeout": 30000}')
    millis = timeout.get("call_timeout")
    if not is_number(millis) or not 0 < millis <= MAX_CALL_TIMEOUT_MS:
        raise invalid(
            "timeout.call_timeout",
            f"must be a number of milliseconds above 0 and at most {MAX_CALL_TIMEOUT_MS}, got {millis!r}.",
        )
    return float(millis) / 1000


def parse_cache(value: Any) -> int:
    """``{type: exact_match, ttl: seconds}`` -> the ttl (``DEFAULT_CACHE_TTL`` when none given)."""
    cache = object_field(value, "cache", '{"type": "exact_match", "ttl": 3600}')
    if cache.get("type") != "exact_match":
        raise invalid("cache.type", f"must be 'exact_match', got {cache.get('type')!r}.")
    ttl = cache.get("ttl", DEFAULT_CACHE_TTL)
    if is_number(ttl) and float(ttl).is_integer():
        ttl = int(ttl)
    if not is_int(ttl) or not 1 <= ttl <= MAX_CACHE_TTL:
        raise invalid(
            "cache.ttl", f"must be a whole number of seconds from 1 to {MAX_CACHE_TTL}, got {ttl!r}."
        )
    return int(ttl)
