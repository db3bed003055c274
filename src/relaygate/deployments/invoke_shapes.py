"""The SDKs' invoke answer shape (``../shared/contracts/deployments.md``, invoke), piece by piece.

``{id, created, object: "chat", model, provider, is_final, telemetry, choices[{index,
message{type, role, content, tool_calls?}, finish_reason}], system_fingerprint?, usage?}``
plus relaygate's ``deployment: {key, version, variant}``. A stream sends the same object
per chunk. Keys Node rejects as null (a tool call's ``id``, ``usage.prompt_tokens``,
``reasoning``) are left out rather than sent null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relaygate.catalog import RoutableModel

from .rendering import DeploymentUse, InvokeShape
from .sdk_shapes import sdk_provider


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def an_object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (upstream answers are read leniently)."""
    return value if isinstance(value, dict) else {}


def envelope(shape: InvokeShape, use: DeploymentUse, model: RoutableModel, *, final: bool) -> dict[str, Any]:
    """What every answer and chunk of a call carries; ``choices`` (and the rest) go on it."""
    return {
        "id": shape.id,
        "created": shape.created,
        "object": "chat",
        "model": model.router_id,
        "provider": sdk_provider(model.provider),
        "is_final": final,
        "telemetry": {"trace_id": shape.trace_id, "span_id": shape.span_id},
        "deployment": {"key": use.key, "version": use.version, "variant": use.variant},
    }


def tool_call(call: Any, position: int) -> dict[str, Any]:
    """One tool call (whole, or a stream's piece of one) as the SDKs read it."""
    call, function = an_object(call), an_object(an_object(call).get("function"))
    shaped: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": function.get("name") if isinstance(function.get("name"), str) else "",
            "arguments": function.get("arguments") if isinstance(function.get("arguments"), str) else "",
        },
    }
    if isinstance(call.get("id"), str):
        shaped["id"] = call["id"]
    shaped["index"] = call["index"] if _is_count(call.get("index")) else position
    return shaped


def message(content: Any, tool_calls: Any = None, reasoning: Any = None) -> dict[str, Any]:
    """A choice's message: ``content`` type, or ``tool_calls`` when the model called tools."""
    text = content if isinstance(content, str) else None
    if isinstance(tool_calls, list) and tool_calls:
        shaped: dict[str, Any] = {"type": "tool_calls", "role": "assistant", "content": text}
        shaped["tool_calls"] = [tool_call(call, position) for position, call in enumerate(tool_calls)]
    else:
        shaped = {"type": "content", "role": "assistant", "content": text}
    if isinstance(reasoning, str) and reasoning:
        shaped["reasoning"] = reasoning
    return shaped


def reasoning_of(message: Mapping[str, Any]) -> Any:
    return message.get("reasoning_content") or message.get("reasoning")


def usage(counts: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI ``usage`` object with only what the SDKs accept (no nulls where Node refuses)."""
    shaped = {
        name: counts[name]
        for name in ("total_tokens", "prompt_tokens", "completion_tokens")
        if _is_count(counts.get(name))
    }
    for name, inner in (
        ("prompt_tokens_details", "cached_tokens"),
        ("completion_tokens_details", "reasoning_tokens"),
    ):
        details = counts.get(name)
        if isinstance(details, dict):
            shaped[name] = {inner: details[inner] if _is_count(details.get(inner)) else None}
    return shaped


def whole_answer(
    shape: InvokeShape, use: DeploymentUse, model: RoutableModel, chat: Mapping[str, Any]
) -> dict[str, Any]:
    """A whole chat completion as the invoke answer."""
    answer = envelope(shape, use, model, final=True)
    choices = []
    for position, choice in enumerate(chat.get("choices") or []):
        if not isinstance(choice, dict):
            continue
        said = an_object(choice.get("message"))
        choices.append(
            {
                "index": choice["index"] if _is_count(choice.get("index")) else position,
                "message": message(said.get("content"), said.get("tool_calls"), reasoning_of(said)),
                "finish_reason": choice.get("finish_reason"),
            }
        )
    answer["choices"] = choices
    if isinstance(chat.get("system_fingerprint"), str):
        answer["system_fingerprint"] = chat["system_fingerprint"]
    if shape.include_usage and isinstance(chat.get("usage"), dict):
        answer["usage"] = usage(chat["usage"])
    return answer
