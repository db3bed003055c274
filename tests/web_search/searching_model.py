"""A fake chat model on loopback that calls the search function it is offered, then cites what it got.

OpenAI's chat completions API, whole and streamed. Per request, in order:

* a ``tool_choice`` naming a function: that function is called (``web_search`` with the user's
  text as its query; any other, the probe's ``ping`` included, with ``{"ok": true}``);
* ``caller_function`` offered: it is called with ``{"city": "Paris"}`` (the caller's own tool);
* ``web_search`` offered and fewer than ``searches`` rounds searched so far (or ``tool_choice``
  ``"required"``): ``parallel`` calls of it (after ``preamble`` text, when set);
* otherwise an answer citing the first two results the tool messages carried, in the style
  ``cite`` names: ``markdown`` links, ``bare`` URLs or ``ref`` numbers ``[n]``.

``failures`` makes chosen requests fail with a status. Tokens are words: prompt tokens are the
words of every message, completion tokens those of the answer (five for a round of tool calls).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .http_server import ThreadedServer

MODEL_KEY = "sk-model-0123456789abcdef"
MODEL_ID = "searcher"
NO_RESULTS_ANSWER = "I found nothing to cite."


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _words(messages: list[dict[str, Any]]) -> int:
    return sum(len(_text(message.get("content")).split()) for message in messages)


@dataclass
class FakeSearchingModel:
    searches: int = 1
    parallel: int = 1
    cite: str = "markdown"
    caller_function: str | None = None
    preamble: str | None = None
    failures: dict[int, int] = field(default_factory=dict)  # chat request number (from 1) -> its status
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadedServer | None = None
    api_key: str = MODEL_KEY

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.base_url + "/v1"

    def start(self) -> FakeSearchingModel:
        routes = [
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
        ]
        self.server = ThreadedServer(Starlette(routes=routes)).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def reset(self, **settings: Any) -> None:
        self.requests.clear()
        self.searches, self.parallel, self.cite = 1, 1, "markdown"
        self.caller_function, self.preamble, self.failures = None, None, {}
        for name, value in settings.items():
            setattr(self, name, value)

    async def _models(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {MODEL_KEY}":
            return JSONResponse(
                {"error": {"message": "bad key", "type": "invalid_request_error"}}, status_code=401
            )
        return JSONResponse(
            {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "fake"}]}
        )

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        status = self.failures.get(len(self.requests))
        if status is not None:
            error = {"message": "scripted failure", "type": "server_error", "param": None, "code": None}
            return JSONResponse({"error": error}, status_code=status)
        messages = body["messages"]
        calls = self._calls(body, messages)
        text = self.preamble if calls else self._answer(messages)
        usage = {
            "prompt_tokens": _words(messages),
            "completion_tokens": 5 if calls else len((text or "").split()),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            include_usage = (body.get("stream_options") or {}).get("include_usage") is True
            return StreamingResponse(
                self._chunks(text, calls, usage if include_usage else None), media_type="text/event-stream"
            )
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = calls
        choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        return JSONResponse({**self._envelope("chat.completion"), "choices": [choice], "usage": usage})

    def _calls(self, body: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        names = [tool["function"]["name"] for tool in body.get("tools") or ()]
        choice = body.get("tool_choice")
        user = next(_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user")
        if isinstance(choice, dict):
            name = choice["function"]["name"]
            return [_call(0, name, {"query": user} if name == "web_search" else {"ok": True})]
        if choice == "none":
            return []
        answered_tools = any(m.get("role") == "tool" for m in messages)
        if self.caller_function is not None and self.caller_function in names and not answered_tools:
            return [_call(0, self.caller_function, {"city": "Paris"})]
        searched = sum(
            1
            for m in messages
            if m.get("role") == "assistant"
            and any(c["function"]["name"] == "web_search" for c in m.get("tool_calls") or ())
        )
        if "web_search" in names and (searched < self.searches or choice == "required"):
            queries = [user if i == 0 else f"{user} (part {i + 1})" for i in range(self.parallel)]
            return [_call(searched * 10 + i, "web_search", {"query": q}) for i, q in enumerate(queries)]
        return []

    def _answer(self, messages: list[dict[str, Any]]) -> str:
        results: list[dict[str, Any]] = []
        for message in messages:
            if message.get("role") == "tool" and message["content"].startswith("{"):  # not the caller's
                results.extend(json.loads(message["content"]).get("results") or ())
        if not results:
            return NO_RESULTS_ANSWER
        cited = results[:2]
        if self.cite == "bare":
            return "Here is what I found: " + " and ".join(r["url"] for r in cited) + "."
        if self.cite == "ref":
            return "Here is what I found " + " ".join(f"[{r['ref']}]" for r in cited) + "."
        return "Here is what I found: " + " and ".join(f"[{r['title']}]({r['url']})" for r in cited) + "."

    def _envelope(self, kind: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake{len(self.requests):04d}",
            "object": kind,
            "created": 1_700_000_000,
            "model": MODEL_ID,
        }

    async def _chunks(
        self, text: str | None, calls: list[dict[str, Any]], usage: dict[str, int] | None
    ) -> AsyncIterator[bytes]:
        def event(payload: dict[str, Any]) -> bytes:
            return f"data: {json.dumps({**self._envelope('chat.completion.chunk'), **payload})}\n\n".encode()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return event({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        yield chunk({"role": "assistant", "content": ""})
        for index, word in enumerate((text or "").split(" ")):
            yield chunk({"content": word if index == 0 else " " + word})
        for index, call in enumerate(calls):
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            first = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": arguments[:half]},
            }
            yield chunk({"tool_calls": [first]})
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]})
        yield chunk({}, "tool_calls" if calls else "stop")
        if usage is not None:
            yield event({"choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"


def _call(number: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"call_{number}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }
