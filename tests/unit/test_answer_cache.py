"""Cache keys, the byte-bounded LRU and the SSE replay of a stored answer."""

from __future__ import annotations

import json
import time

import orjson

from relaygate.router.cache import _LocalLRU, cache_key, replay_as_stream


def test_key_is_canonical_and_ignores_stream_fields() -> None:
    one = orjson.dumps(
        {"model": "gpt", "messages": [{"role": "user", "content": "x"}], "n": {"b": 1, "a": 2}}
    )
    two = orjson.dumps(
        {
            "n": {"a": 2, "b": 1},
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"content": "x", "role": "user"}],
            "model": "other",
        }
    )
    assert cache_key("ws", "p/gpt", "/chat/completions", one) == cache_key(
        "ws", "p/gpt", "/chat/completions", two
    )


def test_key_separates_workspace_model_endpoint_and_body() -> None:
    body = orjson.dumps({"messages": []})
    base = cache_key("ws", "p/gpt", "/chat/completions", body)
    assert base != cache_key("ws2", "p/gpt", "/chat/completions", body)
    assert base != cache_key("ws", "p/gpt2", "/chat/completions", body)
    assert base != cache_key("ws", "p/gpt", "/completions", body)
    assert base != cache_key("ws", "p/gpt", "/chat/completions", orjson.dumps({"messages": [1]}))
    # The separators keep ("ab", "c") and ("a", "bc") apart.
    assert cache_key("ab", "c", "/x", body) != cache_key("a", "bc", "/x", body)


def test_lru_is_bounded_in_bytes_and_drops_the_least_recently_used() -> None:
    lru = _LocalLRU(max_bytes=4000)
    for index in range(3):
        lru.put(f"k{index}", b"x" * 500, ttl=60)
    assert lru.get("k0") is not None  # k0 is now the most recently used
    for index in range(3, 8):
        lru.put(f"k{index}", b"x" * 500, ttl=60)
    assert lru.size <= 4000
    assert lru.get("k0") is not None
    assert lru.get("k1") is None


def test_lru_skips_entries_too_big_to_share_the_space() -> None:
    lru = _LocalLRU(max_bytes=4000)
    lru.put("huge", b"x" * 1500, ttl=60)
    assert lru.get("huge") is None
    assert lru.size == 0


def test_lru_entries_expire() -> None:
    lru = _LocalLRU(max_bytes=10_000)
    lru.put("k", b"v", ttl=0.05)
    assert lru.get("k") == b"v"
    time.sleep(0.06)
    assert lru.get("k") is None
    assert lru.size == 0


def _events(stream: bytes) -> list[str]:
    return [event.removeprefix("data: ") for event in stream.decode().split("\n\n") if event]


def test_replay_of_a_chat_completion_with_tool_calls() -> None:
    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "p/gpt",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    stream = replay_as_stream(json.dumps(answer).encode(), include_usage=True)
    assert stream is not None
    events = _events(stream)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["tool_calls"][0]["index"] == 0
    assert chunks[1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["total_tokens"] == 7
    assert chunks[-1]["choices"] == []
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}


def test_replay_of_a_text_completion_and_of_what_cannot_stream() -> None:
    answer = {
        "id": "c",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "text": "hi", "finish_reason": "stop", "logprobs": None}],
    }
    stream = replay_as_stream(json.dumps(answer).encode(), include_usage=False)
    assert stream is not None
    assert json.loads(_events(stream)[0])["choices"][0]["text"] == "hi"
    assert replay_as_stream(b'{"object": "list", "data": []}', include_usage=False) is None
    assert replay_as_stream(b"not json", include_usage=False) is None
