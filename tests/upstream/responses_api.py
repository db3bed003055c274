"""`/v1/responses` (only when the fake is built with `supports_responses=True`), in the Responses API shape.

Non-streaming answers are one `response` object; streams are named SSE events (`event:` + `data:`)
with a growing `sequence_number`, from `response.created` to `response.completed`, and no `[DONE]`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .chat import ToolCall, plan_tool_calls
from .delivery import Reply, error_reply, json_reply, sse_reply
from .text import Call, content_text, endless_pieces, fill_schema, pieces, sse, truncate, word_count


def _input_words(body: dict[str, Any]) -> int:
    total = word_count(body.get("instructions") or "") if isinstance(body.get("instructions"), str) else 0
    items = body.get("input")
    if isinstance(items, str):
        return total + word_count(items)
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            total += word_count(content_text(item.get("content")))
            total += word_count(str(item.get("output") or ""))
    return total


def _answer(call: Call) -> str:
    text_format = (
        (call.body.get("text") or {}).get("format") if isinstance(call.body.get("text"), dict) else None
    )
    kind = text_format.get("type") if isinstance(text_format, dict) else None
    if kind == "json_schema" and isinstance(text_format, dict):
        return json.dumps(fill_schema(text_format.get("schema") or {}))
    if kind == "json_object":
        return json.dumps({"answer": call.reply_text})
    return call.reply_text


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


class _Plan:
    def __init__(self, call: Call) -> None:
        body = call.body
        self.call = call
        self.response_id = call.make_id("resp", "_")
        self.message_id = call.make_id("msg", "_")
        self.tool_calls: list[ToolCall] = plan_tool_calls(
            body.get("tools"), body.get("tool_choice"), body.get("parallel_tool_calls")
        )
        if self.tool_calls:
            self.text, cut = "", False
            completion = sum(word_count(f"{c.name} {c.arguments}") for c in self.tool_calls)
        else:
            self.text, cut = truncate(_answer(call), body.get("max_output_tokens"))
            completion = word_count(self.text)
        self.incomplete = cut
        self.usage = _usage(_input_words(body), completion)

    def message_item(self, text: str | None, status: str) -> dict[str, Any]:
        content = (
            [] if text is None else [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
        )
        return {
            "id": self.message_id,
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def function_item(self, index: int, arguments: str, status: str) -> dict[str, Any]:
        tool_call = self.tool_calls[index]
        return {
            "id": f"fc_fake{index}",
            "type": "function_call",
            "status": status,
            "arguments": arguments,
            "call_id": tool_call.id,
            "name": tool_call.name,
        }

    def output(self) -> list[dict[str, Any]]:
        if self.tool_calls:
            return [self.function_item(i, c.arguments, "completed") for i, c in enumerate(self.tool_calls)]
        return [self.message_item(self.text, "incomplete" if self.incomplete else "completed")]

    def response(self, status: str, output: list[dict[str, Any]], with_usage: bool) -> dict[str, Any]:
        body = self.call.body
        return {
            "id": self.response_id,
            "object": "response",
            "created_at": self.call.created,
            "status": status,
            "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": self.call.model,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None},
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation", "disabled"),
            "usage": self.usage if with_usage else None,
            "user": body.get("user"),
            "metadata": body.get("metadata") or {},
        }

    @property
    def final_status(self) -> str:
        return "incomplete" if self.incomplete else "completed"


def create_response(call: Call) -> Reply:
    if not isinstance(call.body.get("input"), str | list):
        return error_reply(400, "Missing required parameter: 'input'.", param="input")
    plan = _Plan(call)
    if call.body.get("stream") is True:
        return sse_reply(_Events(plan, call.never_ending).all())
    return json_reply(plan.response(plan.final_status, plan.output(), with_usage=True))


class _Events:
    def __init__(self, plan: _Plan, never_ending: bool) -> None:
        self.plan = plan
        self.never_ending = never_ending
        self.sequence = 0

    def event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return sse(payload, event=kind)

    def all(self) -> Iterator[bytes]:
        plan = self.plan
        yield self.event("response.created", response=plan.response("in_progress", [], with_usage=False))
        yield self.event("response.in_progress", response=plan.response("in_progress", [], with_usage=False))
        if plan.tool_calls:
            for index in range(len(plan.tool_calls)):
                yield from self.function_call(index)
        else:
            yield from self.message()
        final = plan.response(plan.final_status, plan.output(), with_usage=True)
        yield self.event(f"response.{plan.final_status}", response=final)

    def message(self) -> Iterator[bytes]:
        plan = self.plan
        where = {"item_id": plan.message_id, "output_index": 0, "content_index": 0}
        yield self.event(
            "response.output_item.added", output_index=0, item=plan.message_item(None, "in_progress")
        )
        empty_part = {"type": "output_text", "text": "", "annotations": []}
        yield self.event("response.content_part.added", **where, part=empty_part)
        tokens = endless_pieces(plan.text) if self.never_ending else iter(pieces(plan.text))
        for token in tokens:
            yield self.event("response.output_text.delta", **where, delta=token, logprobs=[])
        yield self.event("response.output_text.done", **where, text=plan.text, logprobs=[])
        part = {"type": "output_text", "text": plan.text, "annotations": []}
        yield self.event("response.content_part.done", **where, part=part)
        item = plan.message_item(plan.text, plan.final_status)
        yield self.event("response.output_item.done", output_index=0, item=item)

    def function_call(self, index: int) -> Iterator[bytes]:
        plan = self.plan
        arguments = plan.tool_calls[index].arguments
        item_id = f"fc_fake{index}"
        yield self.event(
            "response.output_item.added",
            output_index=index,
            item=plan.function_item(index, "", "in_progress"),
        )
        for start in range(0, len(arguments), 8):
            delta = arguments[start : start + 8]
            yield self.event(
                "response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=delta
            )
        yield self.event(
            "response.function_call_arguments.done", item_id=item_id, output_index=index, arguments=arguments
        )
        item = plan.function_item(index, arguments, "completed")
        yield self.event("response.output_item.done", output_index=index, item=item)
