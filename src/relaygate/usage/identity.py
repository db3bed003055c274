"""Who a call was made for: identity, thread, name and metadata from the request.

``identity`` (``{id, display_name, email, metadata}``) comes from the body, or just
its id from the ``x-relaygate-identity`` header; the writer upserts it off the request
path. ``thread`` is ``{id, tags}``. ``metadata`` holds at most 16 string pairs (keys up
to 64 characters, values up to 512). Bad shapes are a 400 that says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relaygate.errors import InvalidRequest

MAX_ID = 128
MAX_PAIRS = 16
MAX_KEY = 64
MAX_VALUE = 512
MAX_TAGS = 32
_IDENTITY_TEXT = {"display_name": 256, "email": 320}


def _text(value: Any, param: str, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidRequest(
            f"{param} must be a non-empty string of at most {limit} characters.", param=param
        )
    return value


def _pairs(value: Any, param: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{param} must be an object of string pairs.", param=param)
    if len(value) > MAX_PAIRS:
        raise InvalidRequest(f"{param} has {len(value)} pairs; at most {MAX_PAIRS} are allowed.", param=param)
    pairs: dict[str, str] = {}
    for key, item in value.items():
        if len(key) > MAX_KEY:
            raise InvalidRequest(f"{param} keys are at most {MAX_KEY} characters.", param=param)
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise InvalidRequest(f"{param}.{key} must be a string (or a number).", param=f"{param}.{key}")
        text = str(item)
        if len(text) > MAX_VALUE:
            raise InvalidRequest(
                f"{param}.{key} is longer than {MAX_VALUE} characters.", param=f"{param}.{key}"
            )
        pairs[key] = text
    return pairs


def _identity(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = {"id": value}
    if not isinstance(value, dict):
        raise InvalidRequest(
            "identity must be an object {id, display_name, email, metadata}.", param="identity"
        )
    identity: dict[str, Any] = {"id": _text(value.get("id"), "identity.id", MAX_ID)}
    for field, limit in _IDENTITY_TEXT.items():
        if value.get(field) is not None:
            identity[field] = _text(value[field], f"identity.{field}", limit)
    if value.get("metadata") is not None:
        identity["metadata"] = _pairs(value["metadata"], "identity.metadata")
    return identity


def _tags(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise InvalidRequest(
            f"thread.tags must be a list of at most {MAX_TAGS} strings.", param="thread.tags"
        )
    return tuple(_text(tag, "thread.tags", MAX_KEY) for tag in value)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who a call was made for, as its usage event records it."""

    identity: dict[str, Any] | None = None  # the body's identity object, upserted by the writer
    identity_id: str | None = None
    thread_id: str | None = None
    thread_tags: tuple[str, ...] | None = None
    name: str | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def of(cls, routing: Mapping[str, Any], header_identity: bytes | None) -> Attribution:
        """The call's attribution fields, validated (a 400 that says what is wrong)."""
        if not routing and not header_identity:
            return NOBODY
        identity = _identity(routing["identity"]) if "identity" in routing else None
        identity_id = identity["id"] if identity is not None else None
        if identity is None and header_identity:
            identity_id = _text(
                header_identity.decode("utf-8", "replace").strip(), "x-relaygate-identity", MAX_ID
            )
        thread_id, thread_tags = None, None
        if "thread" in routing:
            thread = routing["thread"]
            if not isinstance(thread, dict):
                raise InvalidRequest("thread must be an object {id, tags}.", param="thread")
            thread_id, thread_tags = _text(thread.get("id"), "thread.id", MAX_ID), _tags(thread.get("tags"))
        name = _text(routing["name"], "name", 128) if "name" in routing else None
        metadata = _pairs(routing["metadata"], "metadata") if "metadata" in routing else None
        return cls(identity, identity_id, thread_id, thread_tags, name, metadata)


NOBODY = Attribution()
