"""Testing the capabilities a model claims, each with the cheapest call that proves it.

One check per claim, in the probe's report:

* ``supports_tool_calling``: one tiny forced tool call; the answer must call it;
* ``supports_strict_tool``: a strict tool and a strict JSON schema of one field; the
  arguments and the content must both be that one-field object;
* ``supports_vision``: a 1-pixel image; the upstream must take it;
* ``has_reasoning``: ``reasoning_effort: "low"``; the upstream must take it;
* ``supports_image_edit``: an edit of the 1-pixel image, only with ``full_probe`` (it costs money);
* ``supports_responses_api``: whether the upstream has ``/responses`` (asked of every chat model).

A claim the upstream ignores or rejects is a warning that says what the upstream did,
and its verdict is ``False``: the model is saved with the flag off unless the user insists.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.upstream.transport import TransportError

PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
_PING_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}
_USER = [{"role": "user", "content": "Call the ping tool with ok set to true."}]


@dataclass(frozen=True)
class Form:
    """A multipart/form-data body for the probe's upload calls."""

    body: bytes
    content_type: str

    @classmethod
    def build(cls, fields: Mapping[str, str], files: Mapping[str, tuple[str, str, bytes]]) -> Form:
        boundary = "relaygate-probe-" + secrets.token_hex(8)
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
            parts.append(value.encode() + b"\r\n")
        for name, (filename, kind, data) in files.items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {kind}\r\n\r\n"
            )
            parts.append(head.encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return cls(b"".join(parts), f"multipart/form-data; boundary={boundary}")


@dataclass(frozen=True)
class Outcome:
    status: str  # passed | warning | skipped
    message: str


# (path, JSON payload or form) -> (status, body, latency ms); raises TransportError.
Caller = Callable[[str, "dict[str, Any] | Form"], Awaitable[tuple[int, bytes, float]]]
# (name, outcome, latency ms) -> reported
Reporter = Callable[[str, Outcome, float], Awaitable[None]]


def _message(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    choices = parsed.get("choices") if isinstance(parsed, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = choice.get("message")
    return message if isinstance(message, dict) else {}


def _tool_arguments(body: bytes) -> str | None:
    calls = _message(body).get("tool_calls")
    if not isinstance(calls, list) or not calls or not isinstance(calls[0], dict):
        return None
    function = calls[0].get("function")
    if not isinstance(function, dict) or function.get("name") != "ping":
        return None
    arguments = function.get("arguments")
    return arguments if isinstance(arguments, str) else ""


def _is_ping_object(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and set(value) == {"ok"} and isinstance(value["ok"], bool)


def _ping_tool(strict: bool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": "ping", "description": "Answer ping.", "parameters": _PING_SCHEMA}
    if strict:
        function["strict"] = True
    return {"type": "function", "function": function}


def _forced_tool_call(model_id: str, strict: bool) -> dict[str, Any]:
    return {
        "model": model_id,
        "messages": _USER,
        "tools": [_ping_tool(strict)],
        "tool_choice": {"type": "function", "function": {"name": "ping"}},
        "max_tokens": 32,
    }


class ClaimChecks:
    def __init__(self, call: Caller, quote: Callable[[int, bytes], str], model_id: str) -> None:
        self._call = call
        self._quote = quote
        self._model_id = model_id

    def _refusal(self, status: int, body: bytes, what: str) -> Outcome | None:
        """A warning quoting the upstream when it refused the test call, else None."""
        if 200 <= status < 300:
            return None
        return Outcome("warning", f"the upstream rejected {what}: {self._quote(status, body)}")

    async def tool_calling(self) -> tuple[Outcome, float]:
        status, body, ms = await self._call("/chat/completions", _forced_tool_call(self._model_id, False))
        if (refused := self._refusal(status, body, "a tool call")) is not None:
            return refused, ms
        if _tool_arguments(body) is None:
            return Outcome(
                "warning", "the upstream answered a forced tool call with text: it ignores tools"
            ), ms
        return Outcome("passed", "a forced tool call came back as a tool call"), ms

    async def strict_tool(self) -> tuple[Outcome, float]:
        status, body, ms = await self._call("/chat/completions", _forced_tool_call(self._model_id, True))
        if (refused := self._refusal(status, body, "a strict tool")) is not None:
            return refused, ms
        if not _is_ping_object(_tool_arguments(body)):
            return Outcome("warning", "a strict tool call's arguments did not match its one-field schema"), ms
        schema = {
            "type": "json_schema",
            "json_schema": {"name": "ping", "strict": True, "schema": _PING_SCHEMA},
        }
        payload = {"model": self._model_id, "messages": _USER, "response_format": schema, "max_tokens": 32}
        status, body, more = await self._call("/chat/completions", payload)
        if (refused := self._refusal(status, body, "a strict JSON schema")) is not None:
            return refused, ms + more
        if not _is_ping_object(_message(body).get("content")):
            return Outcome("warning", "structured output did not match its one-field schema"), ms + more
        return Outcome("passed", "a strict tool and a strict JSON schema were both followed"), ms + more

    async def vision(self) -> tuple[Outcome, float]:
        image = "data:image/png;base64," + base64.b64encode(PIXEL_PNG).decode()
        content = [
            {"type": "text", "text": "What color is this pixel? One word."},
            {"type": "image_url", "image_url": {"url": image}},
        ]
        payload = {
            "model": self._model_id,
            "messages": [{"role": "user", "content": content}],
            "max_tokens": 1,
        }
        status, body, ms = await self._call("/chat/completions", payload)
        if (refused := self._refusal(status, body, "a 1-pixel image")) is not None:
            return refused, ms
        return Outcome("passed", "the upstream took a 1-pixel image"), ms

    async def reasoning(self) -> tuple[Outcome, float]:
        payload = {
            "model": self._model_id,
            "messages": [{"role": "user", "content": "ping"}],
            "reasoning_effort": "low",
            "max_completion_tokens": 16,
        }
        status, body, ms = await self._call("/chat/completions", payload)
        if (refused := self._refusal(status, body, "reasoning_effort")) is not None:
            return refused, ms
        return Outcome("passed", "the upstream took reasoning_effort"), ms

    async def image_edit(self) -> tuple[Outcome, float]:
        form = Form.build(
            {"model": self._model_id, "prompt": "a dot", "n": "1"},
            {"image": ("pixel.png", "image/png", PIXEL_PNG)},
        )
        status, body, ms = await self._call("/images/edits", form)
        if (refused := self._refusal(status, body, "an image edit")) is not None:
            return refused, ms
        return Outcome("passed", "the upstream edited a 1-pixel image"), ms

    async def responses_api(self, claimed: bool) -> tuple[Outcome, float]:
        payload = {"model": self._model_id, "input": "ping", "max_output_tokens": 16}
        status, body, ms = await self._call("/responses", payload)
        if 200 <= status < 300:
            return Outcome("passed", "the upstream offers /responses: calls are passed through"), ms
        translated = "relaygate translates /responses calls onto /chat/completions"
        if claimed:
            return Outcome("warning", f"POST /responses: {self._quote(status, body)}; {translated}"), ms
        return Outcome(
            "skipped", f"the upstream has no /responses ({self._quote(status, body)}); {translated}"
        ), ms


async def check_claims(
    checks: ClaimChecks, report: Reporter, model_type: str, claims: Mapping[str, bool], full: bool
) -> dict[str, bool]:
    """Run one check per claim; the verdict per capability (False: the upstream said no)."""
    plan: list[tuple[str, Callable[[], Awaitable[tuple[Outcome, float]]]]] = []
    if model_type == "chat":
        wanted = {name for name, value in claims.items() if value}
        for name, check in (
            ("supports_tool_calling", checks.tool_calling),
            ("supports_strict_tool", checks.strict_tool),
            ("supports_vision", checks.vision),
            ("has_reasoning", checks.reasoning),
        ):
            if name in wanted:
                plan.append((name, check))
        responses_claimed = bool(claims.get("supports_responses_api"))
        plan.append(("supports_responses_api", lambda: checks.responses_api(responses_claimed)))
    elif model_type == "image" and claims.get("supports_image_edit"):
        if not full:
            skipped = Outcome(
                "skipped", "an image edit costs money: send full_probe: true to test this claim"
            )
            await report("supports_image_edit", skipped, 0.0)
        else:
            plan.append(("supports_image_edit", checks.image_edit))
    verdicts: dict[str, bool] = {}
    for name, run_check in plan:
        try:
            outcome, ms = await run_check()
        except TransportError as exc:
            outcome, ms = Outcome("warning", f"the test call failed: {exc}"), 0.0
        await report(name, outcome, ms)
        if outcome.status != "skipped" or name == "supports_responses_api":
            verdicts[name] = outcome.status == "passed"
    return verdicts


def settle_capabilities(
    claimed: Mapping[str, bool], verdicts: Mapping[str, bool], *, force: bool, given: Mapping[str, bool]
) -> dict[str, bool]:
    """The flags to store: a claim the probe disproved is off unless ``force``.

    ``given``: the flags this request set. ``supports_responses_api`` not set by the user
    takes what the probe found.
    """
    settled = dict(claimed)
    for name, ok in verdicts.items():
        if name == "supports_responses_api" and name not in given:
            settled[name] = ok
        elif settled.get(name) and not ok and not force:
            settled[name] = False
    return settled
