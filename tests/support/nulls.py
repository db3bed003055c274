"""Finding ``null`` in a /v2 answer: an optional field without a value must be absent instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def null_paths(value: Any, path: str = "") -> Iterator[str]:
    """Every path (``a.b``, list items as ``a[]``) where ``value`` holds a null."""
    if value is None:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from null_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from null_paths(item, f"{path}[]")
