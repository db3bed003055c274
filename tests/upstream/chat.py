"""`/v1/chat/completions` and `/v1/completions`, in OpenAI's exact shapes, streaming or not.

The answer is the server's reply text ("Hello from fake upstream" unless configured), a JSON object
filled from `response_format`'s schema, or tool calls when tools are offered. Tokens are words.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .delivery import Reply, error_reply, json_reply, sse_reply
from .text import (
    FINGERPRINT,
    SSE_DONE,
    Call,
    endless_pieces,
    fill_schema,
    logprob_entry,
    messages_word_count,
    pieces,
    slices,
    sse,
    truncate,
    word_count,
)

ARGUMENT_SLICE = 8


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str

    def as_message_part(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


def _function_of(tool: Any) -> dict[str, Any]:
    """The function definition of a chat tool (`{"type":"function","function":{...}}`) or a flat one."""
    if not isinstance(tool, dict):
        return {}
    inner = tool.get("function")
    return inner if isinstance(inner, dict) else tool


def plan_tool_calls(tools: Any, tool_choice: Any, parallel: Any, prefix: str = "call_fake") -> list[ToolCall]:
    """Calls to make: none for tool_choice "none", the named one, all tools when parallel, else the first."""
    if not isinstance(tools, list) or not tools or tool_choice == "none":
        return []
    functions = [f for f in (_function_of(t) for t in tools) if isinstance(f.get("name"), str)]
    if isinstance(tool_choice, dict):
        wanted = _function_of(tool_choice).get("name")
        functions = [f for f in functions if f["name"] == wanted]
    elif parallel is False:
        functions = functions[:1]
    return [
        ToolCall(f"{prefix}{index}", f["name"], json.dumps(fill_schema(f.get("parameters") or {})))
        for index, f in enumerate(functions)
    ]


def answer_text(call: Call, response_format: Any) -> str:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return json.dumps(fill_schema(schema))
    if kind == "json_object":
        return json.dumps({"answer": call.reply_text})
    return call.reply_text


def usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _n(body: dict[str, Any]) -> int:
    n = body.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def _include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


@dataclass(frozen=True)
class ChatPlan:
    """Everything both the JSON and the SSE form of one chat answer are built from."""

    call: Call
    n: int
    text: str | None
    tool_calls: list[ToolCall]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    logprobs: bool
    top_logprobs: int
    include_usage: bool
    never_ending: bool

    def envelope(self, obj: str) -> dict[str, Any]:
        return {
            "id": self.call.make_id("chatcmpl"),
            "object": obj,
            "created": self.call.created,
            "model": self.call.model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }

    def choice_logprobs(self, tokens: list[str]) -> dict[str, Any] | None:
        if not self.logprobs:
            return None
        return {"content": [logprob_entry(t, self.top_logprobs) for t in tokens], "refusal": None}


def plan_chat(call: Call) -> ChatPlan | Reply:
    body = call.body
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error_reply(400, "Missing required parameter: 'messages'.", param="messages")
    n = _n(body)
    tool_calls = plan_tool_calls(body.get("tools"), body.get("tool_choice"), body.get("parallel_tool_calls"))
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if tool_calls:
        text, cut = None, False
        completion = sum(word_count(f"{c.name} {c.arguments}") for c in tool_calls)
    else:
        text, cut = truncate(answer_text(call, body.get("response_format")), limit)
        completion = word_count(text)
    top = body.get("top_logprobs")
    return ChatPlan(
        call=call,
        n=n,
        text=text,
        tool_calls=tool_calls,
        finish_reason="tool_calls" if tool_calls else ("length" if cut else "stop"),
        prompt_tokens=messages_word_count(messages),
        completion_tokens=completion * n,
        logprobs=body.get("logprobs") is True,
        top_logprobs=top if isinstance(top, int) and not isinstance(top, bool) else 0,
        include_usage=_include_usage(body),
        never_ending=call.never_ending,
    )


def chat_completion(call: Call) -> Reply:
    plan = plan_chat(call)
    if isinstance(plan, Reply):
        return plan
    if call.body.get("stream") is True:
        return sse_reply(_chat_events(plan))
    message: dict[str, Any] = {"role": "assistant", "content": plan.text, "refusal": None, "annotations": []}
    if plan.tool_calls:
        message["tool_calls"] = [c.as_message_part() for c in plan.tool_calls]
    choices = [
        {
            "index": index,
            "message": message,
            "logprobs": plan.choice_logprobs(pieces(plan.text or "")),
            "finish_reason": plan.finish_reason,
        }
        for index in range(plan.n)
    ]
    return json_reply(
        {
            **plan.envelope("chat.completion"),
            "choices": choices,
            "usage": usage(plan.prompt_tokens, plan.completion_tokens),
        }
    )


def _chunk(
    plan: ChatPlan, index: int, delta: dict[str, Any], finish: str | None = None, **extra: Any
) -> bytes:
    choice = {"index": index, "delta": delta, "logprobs": extra.get("logprobs"), "finish_reason": finish}
    obj = {**plan.envelope("chat.completion.chunk"), "choices": [choice]}
    if plan.include_usage:
        obj["usage"] = None
    return sse(obj)


def _chat_events(plan: ChatPlan) -> Iterator[bytes]:
    for index in range(plan.n):
        first = "" if plan.text is not None else None
        yield _chunk(plan, index, {"role": "assistant", "content": first, "refusal": None})
    if plan.tool_calls:
        for index in range(plan.n):
            yield from _tool_call_deltas(plan, index)
    else:
        tokens = endless_pieces(plan.text or "") if plan.never_ending else iter(pieces(plan.text or ""))
        for token in tokens:
            for index in range(plan.n):
                yield _chunk(plan, index, {"content": token}, logprobs=plan.choice_logprobs([token]))
    for index in range(plan.n):
        yield _chunk(plan, index, {}, plan.finish_reason)
    if plan.include_usage:
        final = {
            **plan.envelope("chat.completion.chunk"),
            "choices": [],
            "usage": usage(plan.prompt_tokens, plan.completion_tokens),
        }
        yield sse(final)
    yield SSE_DONE


def _tool_call_deltas(plan: ChatPlan, index: int) -> Iterator[bytes]:
    for position, call in enumerate(plan.tool_calls):
        head = {
            "index": position,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        yield _chunk(plan, index, {"tool_calls": [head]})
        for piece in slices(call.arguments, ARGUMENT_SLICE):
            yield _chunk(plan, index, {"tool_calls": [{"index": position, "function": {"arguments": piece}}]})


# --- legacy completions -------------------------------------------------------------------------


def _prompts(prompt: Any) -> list[tuple[str, int]] | None:
    """Each prompt's text (for `echo`) and token count; prompts may be strings or token-id lists."""
    if isinstance(prompt, str):
        return [(prompt, word_count(prompt))]
    if isinstance(prompt, list) and prompt and all(isinstance(p, int) for p in prompt):
        return [("", len(prompt))]
    if isinstance(prompt, list) and prompt:
        out: list[tuple[str, int]] = []
        for item in prompt:
            if isinstance(item, str):
                out.append((item, word_count(item)))
            elif isinstance(item, list):
                out.append(("", len(item)))
            else:
                return None
        return out
    return None


def _completion_logprobs(text: str, top: Any) -> dict[str, Any] | None:
    if not isinstance(top, int) or isinstance(top, bool):
        return None
    tokens = pieces(text)
    offsets = list(itertools.accumulate([0] + [len(t) for t in tokens[:-1]]))
    return {
        "tokens": tokens,
        "token_logprobs": [-0.125] * len(tokens),
        "top_logprobs": [{t: -0.125} for t in tokens] if top > 0 else None,
        "text_offset": offsets if tokens else [],
    }


def text_completion(call: Call) -> Reply:
    body = call.body
    prompts = _prompts(body.get("prompt"))
    if prompts is None:
        return error_reply(400, "Missing or invalid required parameter: 'prompt'.", param="prompt")
    n = _n(body)
    text, cut = truncate(call.reply_text, body.get("max_tokens", 16))
    finish = "length" if cut else "stop"
    prompt_tokens = sum(count for _, count in prompts)
    completion_tokens = word_count(text) * n * len(prompts)
    envelope = {
        "id": call.make_id("cmpl"),
        "object": "text_completion",
        "created": call.created,
        "model": call.model,
    }
    if body.get("stream") is True:
        events = _completion_events(
            envelope, len(prompts) * n, text, finish, _include_usage(body), call.never_ending
        )
        return sse_reply(
            itertools.chain(events, _completion_usage(envelope, body, prompt_tokens, completion_tokens))
        )
    choices = []
    for p_index, (prompt_text, _) in enumerate(prompts):
        full = (prompt_text + text) if body.get("echo") is True else text
        for j in range(n):
            choices.append(
                {
                    "text": full,
                    "index": p_index * n + j,
                    "logprobs": _completion_logprobs(full, body.get("logprobs")),
                    "finish_reason": finish,
                }
            )
    usage_obj = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    usage_obj["total_tokens"] = prompt_tokens + completion_tokens
    return json_reply({**envelope, "choices": choices, "usage": usage_obj, "system_fingerprint": FINGERPRINT})


def _completion_events(
    envelope: dict[str, Any], count: int, text: str, finish: str, with_usage: bool, never_ending: bool
) -> Iterator[bytes]:
    def chunk(index: int, piece: str, finish_reason: str | None) -> bytes:
        choice = {"text": piece, "index": index, "logprobs": None, "finish_reason": finish_reason}
        obj = {**envelope, "choices": [choice], "system_fingerprint": FINGERPRINT}
        if with_usage:
            obj["usage"] = None
        return sse(obj)

    tokens = endless_pieces(text) if never_ending else iter(pieces(text))
    for token in tokens:
        for index in range(count):
            yield chunk(index, token, None)
    for index in range(count):
        yield chunk(index, "", finish)


def _completion_usage(
    envelope: dict[str, Any], body: dict[str, Any], prompt: int, completion: int
) -> Iterator[bytes]:
    if _include_usage(body):
        totals = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        yield sse({**envelope, "choices": [], "usage": totals, "system_fingerprint": FINGERPRINT})
    yield SSE_DONE
