"""Refusing, before anything leaves relaygate, a request its model cannot serve.

Each refusal is a 400 that names the model, what the request needs and how to turn it
on. The checks look only at what the model lacks: a model with the capability pays a
flag lookup; one without vision pays a walk over the messages' content lists (about
1 us for twelve messages; a byte search of the raw body costs more, 6 us for 12 KB).
``reasoning_effort`` is not refused but removed for models without
``has_reasoning``; the response says so in ``x-relaygate-removed-params``.
Strict tools of a chat call reach ``check_tools`` only for a model that enforces them or
when the call is not emulated: ``strict_schemas.py`` takes ``strict`` out beforehand and
checks the answer instead (or refuses, for a model in ``strict_mode: "reject"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from relaygate.catalog import RoutableModel
from relaygate.errors import InvalidRequest
from relaygate.router.asgi import RawHeaders
from relaygate.router.endpoints import Endpoint, type_label

REMOVED_HEADER = b"x-relaygate-removed-params"
_IMAGE_PART_TYPES = frozenset({"image_url", "input_image"})
CHAT_REASONING_FIELDS = ("reasoning_effort",)  # removed for models without has_reasoning


def missing_capability(
    model: RoutableModel, capability: str, need: str, param: str | None, hint: str = ""
) -> InvalidRequest:
    return InvalidRequest(
        f"Model '{model.router_id}' does not support {need}: its {capability} capability is off. "
        f"To enable it, PATCH /v2/models/openai-like/{model.id} with {capability}: true "
        "(the probe tests the claim; add force: true to keep it if the upstream disagrees)." + hint,
        param=param,
        code="capability_not_supported",
    )


def check_model_type(model: RoutableModel, endpoint: Endpoint) -> None:
    if model.model_type not in endpoint.model_types:
        raise InvalidRequest(
            f"Model '{model.router_id}' is {type_label(model.model_type)} and cannot serve {endpoint.name}; "
            f"use {' or '.join(type_label(kind) for kind in sorted(endpoint.model_types))}.",
            param="model",
            code="model_type_mismatch",
        )
    if endpoint.requires is not None and not model.supports(endpoint.requires):
        raise missing_capability(model, endpoint.requires, endpoint.name, "model")


def _has_image_part(items: Any) -> bool:
    """Any image content part in chat messages or Responses input items."""
    if not isinstance(items, list):
        return False
    for item in items:
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, list) and any(
            isinstance(part, dict) and part.get("type") in _IMAGE_PART_TYPES for part in content
        ):
            return True
    return False


def _is_strict(tool: Any) -> bool:
    if not isinstance(tool, dict):
        return False
    function = tool.get("function")
    if isinstance(function, dict) and function.get("strict") is True:
        return True
    return tool.get("strict") is True  # a Responses function tool is flat


def check_tools(model: RoutableModel, tools: Any) -> None:
    if not isinstance(tools, list) or not tools:
        return
    if not model.supports("supports_tool_calling"):
        raise missing_capability(model, "supports_tool_calling", "tool calling ('tools')", "tools")
    if not model.supports("supports_strict_tool") and any(_is_strict(tool) for tool in tools):
        raise missing_capability(model, "supports_strict_tool", "strict tools ('strict': true)", "tools")


def check_vision(model: RoutableModel, items: Any, param: str) -> None:
    if model.supports("supports_vision"):
        return
    if _has_image_part(items):
        raise missing_capability(model, "supports_vision", "image inputs", param)


def remove_unsupported(model: RoutableModel, body: dict[str, Any], fields: Iterable[str]) -> RawHeaders:
    """Drop reasoning fields a model without ``has_reasoning`` would reject; say which."""
    if model.supports("has_reasoning"):
        return []
    removed = [name for name in fields if body.pop(name, None) is not None]
    return [(REMOVED_HEADER, ",".join(removed).encode())] if removed else []


def check_chat(model: RoutableModel, body: dict[str, Any]) -> RawHeaders:
    """Vision and tools of a chat body; its extra response headers (removed parameters)."""
    if "tools" in body:
        check_tools(model, body["tools"])
    if "functions" in body:
        check_tools(model, body["functions"])
    check_vision(model, body.get("messages"), "messages")
    if "reasoning_effort" in body:
        return remove_unsupported(model, body, CHAT_REASONING_FIELDS)
    return []
