"""``{{variable}}`` templates in a deployment's messages: which variables they need, and
the messages with the caller's inputs put in.

A placeholder is ``{{name}}`` (spaces inside the braces allowed), where a name is a
letter or ``_`` followed by letters, digits, ``_``, ``.`` or ``-``. Text placeholders
are found in a message's string content, in the ``text`` of its text parts and in the
``url`` of its image parts. Rendering is one pass over the template: a value goes in as
text and is never read as a template itself, so an input holding ``{{other}}`` stays
exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson

from relaygate.errors import InvalidRequest

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")

Message = Mapping[str, Any]


class MissingVariables(InvalidRequest):
    """The template needs variables the call's ``inputs`` do not give."""

    def __init__(self, names: Sequence[str]) -> None:
        listed = ", ".join(f"'{name}'" for name in names)
        noun = "variable" if len(names) == 1 else "variables"
        super().__init__(
            f"The deployment's prompt needs the {noun} {listed}: give a value for each in 'inputs'.",
            param="inputs",
            code="missing_variables",
        )
        self.names = tuple(names)


def _texts(message: Message) -> Iterator[str]:
    content = message.get("content")
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                yield part["text"]
            image = part.get("image_url")
            if isinstance(image, dict) and isinstance(image.get("url"), str):
                yield image["url"]


def variables(messages: Sequence[Message]) -> list[str]:
    """The variables ``messages`` need, in order of first appearance, each once."""
    found: dict[str, None] = {}
    for message in messages:
        for text in _texts(message):
            for match in PLACEHOLDER.finditer(text):
                found.setdefault(match.group(1), None)
    return list(found)


def as_text(value: Any) -> str:
    """An input value as the text that stands in for its placeholder."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def _fill(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _render_part(part: Any, values: Mapping[str, str]) -> Any:
    if not isinstance(part, dict):
        return part
    rendered = dict(part)
    if isinstance(part.get("text"), str):
        rendered["text"] = _fill(part["text"], values)
    image = part.get("image_url")
    if isinstance(image, dict) and isinstance(image.get("url"), str):
        rendered["image_url"] = {**image, "url": _fill(image["url"], values)}
    return rendered


def render(messages: Sequence[Message], inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``messages`` with every placeholder replaced by its input (new objects; the template
    is not changed). A variable without an input is a 400 naming all that are missing."""
    needed = variables(messages)
    missing = [name for name in needed if name not in inputs]
    if missing:
        raise MissingVariables(missing)
    values = {name: as_text(inputs[name]) for name in needed}
    rendered: list[dict[str, Any]] = []
    for message in messages:
        copy = dict(message)
        content = message.get("content")
        if isinstance(content, str):
            copy["content"] = _fill(content, values)
        elif isinstance(content, list):
            copy["content"] = [_render_part(part, values) for part in content]
        rendered.append(copy)
    return rendered
