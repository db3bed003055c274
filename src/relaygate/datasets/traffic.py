"""A datapoint from a recorded router chat call: its messages, and its answer's text as the
expected output.

Only calls whose bodies were logged (``RELAYGATE_LOG_BODIES``) carry what is needed; a
call that cannot become a datapoint is skipped with a reason the answer counts: its body
was not logged or was cut at the log's bound, it is not a JSON chat request, or its
messages are not ones the SDKs read back.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.sse import event_object, split_events

from .datapoints import Datapoint
from .messages import check_messages
from .problems import InvalidDatapoint

_CUT_MARK = "\n[cut: "  # usage/body_log.py ends a cut body with it


class Skipped(Exception):
    """The call cannot become a datapoint; ``reason`` is a short word the answer counts."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _json(text: str | None, missing: str) -> Any:
    if text is None:
        raise Skipped(missing)
    if _CUT_MARK in text:
        raise Skipped("body_cut")
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Skipped("not_json") from None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _first_choice(answer: Any, part: str) -> str:
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list):
        return ""
    for choice in choices:
        if isinstance(choice, dict) and choice.get("index", 0) == 0 and isinstance(choice.get(part), dict):
            return _text(choice[part].get("content"))
    return ""


def answer_text(response_body: str) -> str:
    """The text of a chat answer as logged: a whole JSON answer, or a stream's events."""
    if _CUT_MARK in response_body:
        raise Skipped("body_cut")
    if response_body.lstrip().startswith("{"):
        try:
            return _first_choice(orjson.loads(response_body), "message")
        except orjson.JSONDecodeError:
            raise Skipped("not_json") from None
    pieces = (_first_choice(event_object(event), "delta") for event in split_events(response_body.encode()))
    return "".join(pieces)


def datapoint_of_call(request_body: str | None, response_body: str | None) -> Datapoint:
    """The datapoint a logged chat call makes; ``Skipped`` when it makes none."""
    request = _json(request_body, "body_not_logged")
    if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
        raise Skipped("not_chat")
    try:
        messages = check_messages(request["messages"])
    except InvalidDatapoint:
        raise Skipped("messages_not_supported") from None
    datapoint: Datapoint = {"messages": messages}
    expected = answer_text(response_body) if response_body is not None else ""
    if expected:
        datapoint["expected_output"] = expected
    return datapoint
