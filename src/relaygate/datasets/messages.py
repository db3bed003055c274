"""A datapoint's ``messages``: the chat-message union the hosted product's Node SDK reads back.

The Node SDK checks every stored message against that union (system, developer, user,
assistant, tool) and rejects the whole datapoint when one fails, so a message is checked
here before it is stored: ``role`` and the fields that role requires (``content``; a
tool message's ``tool_call_id``), each content part of a kind that role may carry. Keys
the SDK does not know are kept (it ignores them), as the OpenAI API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .problems import InvalidDatapoint, at, type_name

MAX_MESSAGES = 2048
ROLES = ("system", "developer", "user", "assistant", "tool")
IMAGE_DETAILS = ("low", "high", "auto")
AUDIO_FORMATS = ("mp3", "wav")
CACHE_TTLS = ("5m", "1h")

Check = Callable[[dict[str, Any], str], None]


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidDatapoint(where, f"must be an object, got {type_name(value)}.")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidDatapoint(where, f"must be a string, got {type_name(value)}.")
    return value


def _optional_string(holder: Mapping[str, Any], name: str, where: str, *, nullable: bool = False) -> None:
    if name not in holder or (nullable and holder[name] is None):
        return
    _string(holder[name], at(where, name))


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise InvalidDatapoint(where, f"must be one of {', '.join(allowed)}, got {value!r}.")


def _cache_control(part: dict[str, Any], where: str) -> None:
    if "cache_control" not in part:
        return
    control = _object(part["cache_control"], at(where, "cache_control"))
    _choice(control.get("type"), ("ephemeral",), at(where, "cache_control.type"))
    if "ttl" in control:
        _choice(control["ttl"], CACHE_TTLS, at(where, "cache_control.ttl"))


def _text_part(part: dict[str, Any], where: str) -> None:
    _string(part.get("text"), at(where, "text"))
    _cache_control(part, where)


def _image_part(part: dict[str, Any], where: str) -> None:
    image = _object(part.get("image_url"), at(where, "image_url"))
    _string(image.get("url"), at(where, "image_url.url"))
    if "detail" in image:
        _choice(image["detail"], IMAGE_DETAILS, at(where, "image_url.detail"))
    _cache_control(part, where)


def _audio_part(part: dict[str, Any], where: str) -> None:
    audio = _object(part.get("input_audio"), at(where, "input_audio"))
    _string(audio.get("data"), at(where, "input_audio.data"))
    _choice(audio.get("format"), AUDIO_FORMATS, at(where, "input_audio.format"))


def _file_part(part: dict[str, Any], where: str) -> None:
    file = _object(part.get("file"), at(where, "file"))
    for name in ("file_data", "uri", "mimeType", "filename"):
        _optional_string(file, name, at(where, "file"))
    _cache_control(part, where)


def _refusal_part(part: dict[str, Any], where: str) -> None:
    _optional_string(part, "refusal", where)


def _reasoning_part(part: dict[str, Any], where: str) -> None:
    _string(part.get("reasoning"), at(where, "reasoning"))
    _string(part.get("signature"), at(where, "signature"))


def _redacted_reasoning_part(part: dict[str, Any], where: str) -> None:
    _string(part.get("data"), at(where, "data"))


_TEXT_ONLY: dict[str, Check] = {"text": _text_part}
_USER_PARTS: dict[str, Check] = {
    "text": _text_part,
    "image_url": _image_part,
    "input_audio": _audio_part,
    "file": _file_part,
}
_ASSISTANT_PARTS: dict[str, Check] = {
    "text": _text_part,
    "refusal": _refusal_part,
    "reasoning": _reasoning_part,
    "redacted_reasoning": _redacted_reasoning_part,
}


def _content(value: Any, parts: Mapping[str, Check], where: str) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise InvalidDatapoint(where, f"must be a string or a list of content parts, got {type_name(value)}.")
    for index, item in enumerate(value):
        here = at(where, index)
        part = _object(item, here)
        check = parts.get(str(part.get("type")))
        if check is None:
            raise InvalidDatapoint(at(here, "type"), f"must be one of {', '.join(parts)} here.")
        check(part, here)


def _tool_calls(value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise InvalidDatapoint(where, f"must be a list, got {type_name(value)}.")
    for index, item in enumerate(value):
        here = at(where, index)
        call = _object(item, here)
        _string(call.get("id"), at(here, "id"))
        _choice(call.get("type"), ("function",), at(here, "type"))
        function = _object(call.get("function"), at(here, "function"))
        _optional_string(function, "name", at(here, "function"))
        _optional_string(function, "arguments", at(here, "function"))
        _optional_string(call, "thought_signature", here)


def _plain_message(parts: Mapping[str, Check]) -> Check:
    def check(message: dict[str, Any], where: str) -> None:
        _content(message.get("content"), parts, at(where, "content"))
        _optional_string(message, "name", where)

    return check


def _assistant_message(message: dict[str, Any], where: str) -> None:
    if message.get("content") is not None:
        _content(message["content"], _ASSISTANT_PARTS, at(where, "content"))
    _optional_string(message, "name", where)
    _optional_string(message, "reasoning_content", where)
    _optional_string(message, "refusal", where, nullable=True)
    if message.get("audio") is not None:
        _string(_object(message["audio"], at(where, "audio")).get("id"), at(where, "audio.id"))
    if "tool_calls" in message:
        _tool_calls(message["tool_calls"], at(where, "tool_calls"))


def _tool_message(message: dict[str, Any], where: str) -> None:
    _content(message.get("content"), _TEXT_ONLY, at(where, "content"))
    if "tool_call_id" not in message:
        raise InvalidDatapoint(at(where, "tool_call_id"), "is required in a tool message.")
    _optional_string(message, "tool_call_id", where, nullable=True)


_ROLE_CHECKS: dict[str, Check] = {
    "system": _plain_message(_TEXT_ONLY),
    "developer": _plain_message(_TEXT_ONLY),
    "user": _plain_message(_USER_PARTS),
    "assistant": _assistant_message,
    "tool": _tool_message,
}


def check_messages(value: Any, where: str = "messages") -> list[dict[str, Any]]:
    """The messages, each checked against its role's shape; a 400 names the first wrong field."""
    if not isinstance(value, list):
        raise InvalidDatapoint(where, f"must be a list of chat messages, got {type_name(value)}.")
    if len(value) > MAX_MESSAGES:
        raise InvalidDatapoint(where, f"holds {len(value)} messages; at most {MAX_MESSAGES} are allowed.")
    for index, item in enumerate(value):
        here = at(where, index)
        message = _object(item, here)
        role = message.get("role")
        if role not in _ROLE_CHECKS:
            raise InvalidDatapoint(at(here, "role"), f"must be one of {', '.join(ROLES)}, got {role!r}.")
        _ROLE_CHECKS[role](message, here)
    return value
