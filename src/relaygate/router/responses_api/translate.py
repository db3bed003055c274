"""A Responses request as a chat completions request, and a chat answer as a Responses answer.

Used when the model's upstream has no ``/responses``. What has a chat equivalent is
translated: ``instructions`` (a system message), ``input`` (text, messages with text,
image, file and audio parts, function calls and their outputs), function ``tools`` and
``tool_choice``, ``max_output_tokens``, ``text.format`` (JSON mode, JSON schema) and
``reasoning.effort``. What needs server-side state or a built-in tool (a previous
response, web search...) is refused with a 400 that says so; fields we do not know go
on untouched, as everywhere in relaygate.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from relaygate.errors import InvalidRequest

from . import protocol

_STATEFUL = ("previous_response_id", "conversation", "prompt")
_DROPPED = ("store", "include", "truncation", "background", "stream_options")
_PART_TYPES = {"input_text": "text", "output_text": "text"}
# Earlier output a client sends back that a chat upstream has no place for: the model's own
# reasoning, and web searches relaygate ran (what they found is in the answer that followed).
_NOT_SENT_BACK = frozenset({"reasoning", "web_search_call"})


def untranslatable(what: str, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"{what} needs an upstream that offers /responses; this model's upstream speaks only "
        "/chat/completions, onto which relaygate translates. Set supports_responses_api on the model "
        "if its upstream has /responses.",
        param=param,
        code="unsupported_in_translation",
    )


def request_to_chat(body: dict[str, Any]) -> dict[str, Any]:
    """The chat completions body for a Responses body (``model`` and routing fields already handled)."""
    chat = dict(body)
    for name in _STATEFUL:
        if chat.pop(name, None) is not None:
            raise untranslatable(f"'{name}'", name)
    for name in _DROPPED:
        chat.pop(name, None)
    messages: list[dict[str, Any]] = []
    instructions = chat.pop("instructions", None)
    if isinstance(instructions, str) and instructions:
        messages.append({"role": "system", "content": instructions})
    messages.extend(_messages(chat.pop("input", None)))
    chat["messages"] = messages
    limit = chat.pop("max_output_tokens", None)
    if limit is not None:
        chat["max_tokens"] = limit
    tools = chat.pop("tools", None)
    if tools:
        chat["tools"] = [_tool(tool) for tool in _list(tools, "tools")]
    if "tool_choice" in chat:
        chat["tool_choice"] = _tool_choice(chat["tool_choice"])
    _text_options(chat, chat.pop("text", None))
    reasoning = chat.pop("reasoning", None)
    if isinstance(reasoning, dict) and reasoning.get("effort") is not None:
        chat["reasoning_effort"] = reasoning["effort"]
    return chat


def _list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidRequest(f"'{param}' must be an array.", param=param)
    return value


def _messages(items: Any) -> list[dict[str, Any]]:
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    if items is None:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")
    messages: list[dict[str, Any]] = []
    for item in _list(items, "input"):
        if not isinstance(item, dict):
            raise InvalidRequest("Each 'input' item must be an object.", param="input")
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item))
        elif kind == "function_call":
            _add_tool_call(messages, item)
        elif kind == "function_call_output":
            output = item.get("output")
            content = output if isinstance(output, str) else _text_of(output)
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": content})
        elif kind not in _NOT_SENT_BACK:
            raise untranslatable(f"An input item of type '{kind}'", "input")
    return messages


def _message(item: dict[str, Any]) -> dict[str, Any]:
    role = item.get("role", "user")
    role = "system" if role == "developer" else role  # most chat upstreams know no "developer"
    content = item.get("content")
    if isinstance(content, list):
        content = _text_of(content) if role == "assistant" else [_part(part) for part in content]
    return {"role": role, "content": content}


def _text_of(parts: Any) -> str:
    if not isinstance(parts, list):
        return ""
    return "".join(
        str(part.get("text") or part.get("refusal") or "") for part in parts if isinstance(part, dict)
    )


def _part(part: Any) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise InvalidRequest("Each content part must be an object.", param="input")
    kind = part.get("type")
    if kind in _PART_TYPES:
        return {"type": "text", "text": part.get("text", "")}
    if kind == "input_image":
        if not part.get("image_url"):
            raise untranslatable("An input_image given by file_id", "input")
        image: dict[str, Any] = {"url": part["image_url"]}
        if part.get("detail"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file":
        keys = ("file_data", "file_id", "filename")
        return {"type": "file", "file": {key: part[key] for key in keys if part.get(key) is not None}}
    if kind == "input_audio":
        return {"type": "input_audio", "input_audio": part.get("input_audio")}
    raise untranslatable(f"A content part of type '{kind}'", "input")


def _add_tool_call(messages: list[dict[str, Any]], item: dict[str, Any]) -> None:
    call = {
        "id": item.get("call_id"),
        "type": "function",
        "function": {"name": item.get("name"), "arguments": item.get("arguments") or "{}"},
    }
    last = messages[-1] if messages else None
    if last is not None and last.get("role") == "assistant" and "tool_calls" in last:
        last["tool_calls"].append(call)
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _tool(tool: Any) -> dict[str, Any]:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        kind = tool.get("type") if isinstance(tool, dict) else tool
        raise untranslatable(f"The built-in tool '{kind}'", "tools")
    function = {key: tool[key] for key in ("name", "description", "parameters", "strict") if key in tool}
    return {"type": "function", "function": function}


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, str) or choice is None:
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    raise untranslatable("This tool_choice", "tool_choice")


def _text_options(chat: dict[str, Any], text: Any) -> None:
    if not isinstance(text, dict):
        return
    if text.get("verbosity") is not None:
        chat["verbosity"] = text["verbosity"]
    fmt = text.get("format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_object":
        chat["response_format"] = {"type": "json_object"}
    elif kind == "json_schema" and isinstance(fmt, dict):
        keys = ("name", "schema", "strict", "description")
        chat["response_format"] = {
            "type": "json_schema",
            "json_schema": {key: fmt[key] for key in keys if key in fmt},
        }


def ids_for(chat_id: Any) -> str:
    """The id suffix shared by a translated response and its items."""
    if isinstance(chat_id, str) and chat_id:
        return chat_id.removeprefix("chatcmpl-").replace("-", "")[:48]
    return secrets.token_hex(12)


def chat_to_response(chat: dict[str, Any], request: dict[str, Any], model: str) -> dict[str, Any]:
    """The Responses answer for a chat completions answer."""
    base = ids_for(chat.get("id"))
    choices = protocol.as_list(chat.get("choices"))
    choice = protocol.as_dict(choices[0] if choices else None)
    message = protocol.as_dict(choice.get("message"))
    calls = protocol.as_list(message.get("tool_calls"))
    output: list[dict[str, Any]] = []
    text, refusal = message.get("content"), message.get("refusal")
    if text is not None or refusal is not None or not calls:
        output.append(protocol.message_item(f"msg_{base}", text or "", refusal, "completed"))
    for index, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        output.append(
            protocol.function_call_item(
                f"fc_{base}_{index}",
                str(call.get("id") or f"call_{base}_{index}"),
                str(function.get("name") or ""),
                str(function.get("arguments") or ""),
                "completed",
            )
        )
    created = chat.get("created")
    return protocol.response_object(
        request,
        response_id=f"resp_{base}",
        created_at=created if isinstance(created, int) else int(time.time()),
        model=model,
        status="incomplete" if choice.get("finish_reason") == "length" else "completed",
        output=output,
        usage=protocol.usage(chat.get("usage")),
    )
