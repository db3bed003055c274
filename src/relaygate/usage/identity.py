"""Who a call was made for: identity, thread, name and metadata from the request.

``identity`` (``{id, display_name, email, metadata}``) comes from the body, or just
its id from the ``x-relaygate-identity`` header; the writer upserts it off the request
path. ``thread`` is ``{id, tags}``. ``metadata`` holds at most 16 string pairs (keys up
to 64 characters, values up to 512). Bad shapes are a 400 that says what is wrong.
"""

from __future__ import annotations

from typing import Any

from relaygate.errors import InvalidRequest
from relaygate.usage.events import UsageEvent

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


def _thread(event: UsageEvent, value: Any) -> None:
    if not isinstance(value, dict):
        raise InvalidRequest("thread must be an object {id, tags}.", param="thread")
    event.thread_id = _text(value.get("id"), "thread.id", MAX_ID)
    tags = value.get("tags")
    if tags is None:
        return
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise InvalidRequest(
            f"thread.tags must be a list of at most {MAX_TAGS} strings.", param="thread.tags"
        )
    event.thread_tags = [_text(tag, "thread.tags", MAX_KEY) for tag in tags]


def annotate(event: UsageEvent, routing: dict[str, Any], header_identity: bytes | None) -> None:
    """Copy the call's attribution fields onto its event, validating them."""
    if "identity" in routing:
        event.identity = _identity(routing["identity"])
        event.identity_id = event.identity["id"]
    elif header_identity:
        event.identity_id = _text(
            header_identity.decode("utf-8", "replace").strip(), "x-relaygate-identity", MAX_ID
        )
    if "thread" in routing:
        _thread(event, routing["thread"])
    if "name" in routing:
        event.name = _text(routing["name"], "name", 128)
    if "metadata" in routing:
        event.request_metadata = _pairs(routing["metadata"], "metadata")
