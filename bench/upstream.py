"""The benchmark's upstream: as cheap per request as Python gets, so the numbers measure relaygate.

A raw ASGI app on uvicorn with uvloop and httptools. `POST /v1/chat/completions` answers a canned
~500-byte chat completion with usage, or (when the body asks for `"stream": true`) a canned 20-chunk
SSE stream, with the OpenAI usage chunk when `stream_options.include_usage` is asked for. A streamed
request for a model whose id starts with `slow-` gets a slow LLM's answer instead: 20 content events
100 ms apart (the first at once), then the finish chunk and `[DONE]`. Requests must carry
`Authorization: Bearer <key>`. `GET /v1/models` lists the one model.

    python -m bench.upstream --port 8001 --api-key sk-bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MODEL = "bench-model"
CREATED = 1_700_000_000
ANSWER = (
    "The quick brown fox jumps over the lazy dog "
    "while the benchmark measures how much time the router adds today"
)
WORDS = ANSWER.split()  # 20 words: 20 content chunks
USAGE = {"prompt_tokens": 9, "completion_tokens": len(WORDS), "total_tokens": 9 + len(WORDS)}


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def chat_completion_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench0001",
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": " ".join(WORDS), "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
            "system_fingerprint": "fp_bench",
        },
        indent=1,
    ).encode()


def stream_events(include_usage: bool) -> list[bytes]:
    """The SSE answer as the list of body pieces sent one by one."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        obj: dict[str, Any] = {
            "id": "chatcmpl-bench0002",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": "fp_bench",
            "choices": [choice],
        }
        if include_usage:
            obj["usage"] = None
        return obj

    objects = [chunk({"role": "assistant", "content": ""})]
    objects += [chunk({"content": (" " if i else "") + word}) for i, word in enumerate(WORDS)]
    objects.append(chunk({}, "stop"))
    if include_usage:
        objects.append({**chunk({}), "choices": [], "usage": USAGE})
    return [b"data: " + _compact(o) + b"\n\n" for o in objects] + [b"data: [DONE]\n\n"]


def slow_stream_events(include_usage: bool) -> list[bytes]:
    """The slow answer as `SLOW_EVENTS` pieces sent `SLOW_INTERVAL` apart: the role chunk goes with
    the first word, and the finish chunk, the usage chunk (if asked for) and `[DONE]` with the last."""
    events = stream_events(include_usage)
    first, words, tail = events[:2], events[2 : 1 + len(WORDS)], events[1 + len(WORDS) :]
    return [b"".join(first), *words[:-1], words[-1] + b"".join(tail)]


SLOW_PREFIX = "slow-"  # model ids that get the slow stream
SLOW_INTERVAL = 0.1  # seconds between two events of the slow stream
CHAT_BODY = chat_completion_body()
STREAM = stream_events(include_usage=False)
STREAM_WITH_USAGE = stream_events(include_usage=True)
SLOW_STREAM = slow_stream_events(include_usage=False)
SLOW_STREAM_WITH_USAGE = slow_stream_events(include_usage=True)
SLOW_EVENTS = len(SLOW_STREAM)
MODELS_BODY = _compact({"object": "list", "data": [{"id": MODEL, "object": "model", "created": CREATED}]})
UNAUTHORIZED = _compact(
    {
        "error": {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
)
NOT_FOUND = _compact(
    {"error": {"message": "Not found.", "type": "invalid_request_error", "param": None, "code": None}}
)
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]


def _stream_answer(body: bytes) -> tuple[list[bytes], float] | None:
    """The stream's pieces and the pause between two, or None for a whole answer; parses the JSON
    only when the word "stream" appears at all."""
    if b'"stream"' not in body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get("stream") is not True:
        return None
    options = parsed.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    if str(parsed.get("model", "")).startswith(SLOW_PREFIX):
        return (SLOW_STREAM_WITH_USAGE if include_usage else SLOW_STREAM), SLOW_INTERVAL
    return (STREAM_WITH_USAGE if include_usage else STREAM), 0.0


async def send_stream(send: Send, pieces: list[bytes], interval: float) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    for index, piece in enumerate(pieces):
        if interval and index:
            await asyncio.sleep(interval)
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def make_app(api_key: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    expected = b"Bearer " + api_key.encode()

    async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        length = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers + length})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if dict(scope["headers"]).get(b"authorization") != expected:
            await respond(send, 401, JSON_HEADERS, UNAUTHORIZED)
            return
        path = scope["path"]
        if path == "/v1/chat/completions" and scope["method"] == "POST":
            answer = _stream_answer(body)
            if answer is None:
                await respond(send, 200, JSON_HEADERS, CHAT_BODY)
            else:
                await send_stream(send, *answer)
        elif path == "/v1/models":
            await respond(send, 200, JSON_HEADERS, MODELS_BODY)
        else:
            await respond(send, 404, JSON_HEADERS, NOT_FOUND)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    uvicorn.run(
        make_app(args.api_key),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
