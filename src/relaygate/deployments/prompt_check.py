"""Checking a deployment's prompt before it is stored: its messages and its parameters.

Messages are OpenAI chat messages whose content is text or parts of the kinds the
hosted product's SDKs read back (text, image_url, file); ``{{variables}}`` may sit in any
text. Parameters are OpenAI chat parameters: the common ones are type-checked here, any
other key is passed to the model as is. What a call decides itself (``model``,
``messages``, ``stream``) and the routing policy (a deployment's own top-level fields)
are refused inside ``parameters``, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .fields import a_list, an_object, at, integer, invalid, number, only_known, text, type_name

ROLES = ("system", "developer", "user", "assistant", "tool")
IMAGE_DETAILS = ("low", "high", "auto")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
TOOL_CHOICES = ("none", "auto", "required")
FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MESSAGE_KEYS = {
    "system": ("role", "content", "name"),
    "developer": ("role", "content", "name"),
    "user": ("role", "content", "name"),
    "assistant": ("role", "content", "name", "tool_calls"),
    "tool": ("role", "content", "tool_call_id"),
}
_FILE_SOURCES = ("file_data", "uri", "file_id")
_CALL_FIELDS = {
    "model": "a deployment's model is its top-level 'model'",
    "messages": "a deployment's messages are its top-level 'messages'",
    "stream": "each call chooses whether it streams",
}
_ROUTING_FIELDS = {
    **{name: f"set the deployment's own '{name}'" for name in ("retry", "fallbacks", "timeout", "cache")},
    "load_balancer": "a deployment does not balance load; its 'fallbacks' name where it fails over",
}


def _text_part(part: dict[str, Any], where: str) -> None:
    only_known(part, ("type", "text"), where)
    text(part.get("text"), at(where, "text"))


def _image_part(part: dict[str, Any], where: str) -> None:
    only_known(part, ("type", "image_url"), where)
    image = an_object(part.get("image_url"), at(where, "image_url"))
    only_known(image, ("url", "detail"), at(where, "image_url"))
    text(image.get("url"), at(where, "image_url.url"), empty=False)
    if "detail" in image and image["detail"] not in IMAGE_DETAILS:
        raise invalid(at(where, "image_url.detail"), f"must be one of {', '.join(IMAGE_DETAILS)}.")


def _file_part(part: dict[str, Any], where: str) -> None:
    only_known(part, ("type", "file"), where)
    file = an_object(part.get("file"), at(where, "file"))
    only_known(file, (*_FILE_SOURCES, "filename", "mimeType"), at(where, "file"))
    for name, value in file.items():
        text(value, at(at(where, "file"), name), empty=False)
    if not any(name in file for name in _FILE_SOURCES):
        raise invalid(at(where, "file"), "needs one of 'file_data' (a data URI), 'uri' or 'file_id'.")


_PARTS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "text": _text_part,
    "image_url": _image_part,
    "file": _file_part,
}


def _content(value: Any, where: str) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list) or not value:
        raise invalid(where, f"must be a string or a non-empty list of parts, got {type_name(value)}.")
    for index, item in enumerate(value):
        part = an_object(item, at(where, index))
        check = _PARTS.get(str(part.get("type")))
        if check is None:
            raise invalid(at(at(where, index), "type"), f"must be one of {', '.join(_PARTS)}.")
        check(part, at(where, index))


def _tool_calls(value: Any, where: str) -> None:
    for index, item in enumerate(a_list(value, where)):
        call = an_object(item, at(where, index))
        only_known(call, ("id", "type", "function"), at(where, index))
        if call.get("type") != "function":
            raise invalid(at(at(where, index), "type"), "must be 'function'.")
        function = an_object(call.get("function"), at(at(where, index), "function"))
        text(function.get("name"), at(at(where, index), "function.name"), empty=False)
        text(function.get("arguments"), at(at(where, index), "function.arguments"))


def check_messages(value: Any, where: str) -> list[dict[str, Any]]:
    """The messages, each checked; a 400 names the first field that is wrong."""
    messages = a_list(value, where)
    for index, item in enumerate(messages):
        here = at(where, index)
        message = an_object(item, here)
        role = message.get("role")
        if role not in ROLES:
            raise invalid(at(here, "role"), f"must be one of {', '.join(ROLES)}, got {role!r}.")
        only_known(message, _MESSAGE_KEYS[role], here)
        if "name" in message:
            text(message["name"], at(here, "name"), empty=False)
        if role == "assistant" and message.get("tool_calls") is not None:
            _tool_calls(message["tool_calls"], at(here, "tool_calls"))
            if message.get("content") is None:
                continue
        if role == "tool":
            text(message.get("tool_call_id"), at(here, "tool_call_id"), empty=False)
        _content(message.get("content"), at(here, "content"))
    return messages


def _tool(value: Any, where: str) -> None:
    tool = an_object(value, where)
    text(tool.get("type"), at(where, "type"), empty=False)
    if tool["type"] != "function":
        return  # another kind of tool is the model's to accept
    only_known(tool, ("type", "function"), where)
    function = an_object(tool.get("function"), at(where, "function"))
    only_known(function, ("name", "description", "parameters", "strict"), at(where, "function"))
    name = function.get("name")
    if not isinstance(name, str) or not FUNCTION_NAME.match(name):
        raise invalid(
            at(where, "function.name"), "must be 1-64 letters, digits, '_' or '-' (OpenAI's rule for names)."
        )
    if "description" in function:
        text(function["description"], at(where, "function.description"))
    if "parameters" in function:
        an_object(function["parameters"], at(where, "function.parameters"))
    if "strict" in function and not isinstance(function["strict"], bool):
        raise invalid(at(where, "function.strict"), "must be true or false.")


def _response_format(value: Any, where: str) -> None:
    shape = an_object(value, where)
    if shape.get("type") not in RESPONSE_FORMATS:
        raise invalid(at(where, "type"), f"must be one of {', '.join(RESPONSE_FORMATS)}.")
    if shape["type"] == "json_schema":
        schema = an_object(shape.get("json_schema"), at(where, "json_schema"))
        text(schema.get("name"), at(where, "json_schema.name"), empty=False)
        an_object(schema.get("schema", {}), at(where, "json_schema.schema"))


def _stop(value: Any, where: str) -> None:
    if isinstance(value, str):
        return
    for index, item in enumerate(a_list(value, where)):
        text(item, at(where, index))


def _tool_choice(value: Any, where: str) -> None:
    if isinstance(value, str):
        if value not in TOOL_CHOICES:
            raise invalid(where, f"must be one of {', '.join(TOOL_CHOICES)} or an object.")
        return
    an_object(value, where)


def _tools(value: Any, where: str) -> None:
    for index, item in enumerate(a_list(value, where)):
        _tool(item, at(where, index))


_PARAMETER_CHECKS: dict[str, Callable[[Any, str], None]] = {
    "temperature": lambda value, where: number(value, where, 0, 2),
    "top_p": lambda value, where: number(value, where, 0, 1),
    "frequency_penalty": lambda value, where: number(value, where, -2, 2),
    "presence_penalty": lambda value, where: number(value, where, -2, 2),
    "max_tokens": lambda value, where: integer(value, where, 1),
    "max_completion_tokens": lambda value, where: integer(value, where, 1),
    "n": lambda value, where: integer(value, where, 1),
    "seed": lambda value, where: integer(value, where, -(2**63)),
    "stop": _stop,
    "response_format": _response_format,
    "tools": _tools,
    "tool_choice": _tool_choice,
}


def check_parameters(value: Any, where: str) -> dict[str, Any]:
    """The parameters, the known ones type-checked; the rest go to the model as they are."""
    parameters = an_object(value, where)
    for name, item in parameters.items():
        here = at(where, name)
        if name in _CALL_FIELDS:
            raise invalid(here, f"cannot be a parameter: {_CALL_FIELDS[name]}.")
        if name in _ROUTING_FIELDS:
            raise invalid(here, f"is routing policy, not a model parameter: {_ROUTING_FIELDS[name]}.")
        check = _PARAMETER_CHECKS.get(name)
        if check is not None:
            check(item, here)
    return parameters
