"""The exact-match answer cache (``cache: {type: exact_match, ttl}``).

The key is the workspace, the request's router model, the endpoint and the canonical
body: keys sorted, routing fields gone (``extract_routing`` removed them already), and
``stream``/``stream_options`` left out so that a streaming request finds the answer a
plain one stored. Only successful non-streaming answers are stored; a streaming request
that hits is answered with the stored completion replayed as a valid SSE stream.

Entries live in Redis when ``RELAYGATE_REDIS_URL`` is set and Redis answers, else in
this process's LRU, bounded in bytes (``RELAYGATE_CACHE_MAX_BYTES``). A Redis error
marks the link down and the call goes on with the local LRU.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from typing import Any

import orjson

from relaygate.cluster.redis_link import RedisLink, redis_failures
from relaygate.sse import DONE, encode_event

log = logging.getLogger("relaygate.cache")

_REDIS_PREFIX = "relaygate:cache:"
_ENTRY_OVERHEAD = 120  # bytes of bookkeeping per local entry, so tiny answers count too
_UNCACHED_FIELDS = ("model", "stream", "stream_options")


def cache_key(workspace_id: str, router_model: str, endpoint: str, payload: bytes) -> str:
    """A hex digest naming one exact request of one workspace."""
    body = orjson.loads(payload)
    for name in _UNCACHED_FIELDS:
        body.pop(name, None)
    digest = hashlib.sha256()
    for part in (workspace_id, router_model, endpoint):
        digest.update(part.encode())
        digest.update(b"\x00")
    digest.update(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def pack(router_model: str, body: bytes) -> bytes:
    """A stored entry: the router id of the model that answered, then its answer."""
    return router_model.encode() + b"\n" + body


def unpack(entry: bytes) -> tuple[str, bytes]:
    model, _, body = entry.partition(b"\n")
    return model.decode(), body


class _LocalLRU:
    """Least recently used entries go first once the total size passes ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: bytes, ttl: float) -> None:
        cost = len(value) + len(key) + _ENTRY_OVERHEAD
        if cost > self.max_bytes // 4:  # one huge answer must not flush everything else
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (time.monotonic() + ttl, value)
        self.size += cost
        while self.size > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self.size -= len(value) + len(key) + _ENTRY_OVERHEAD


class ResponseCache:
    def __init__(self, redis: RedisLink, max_bytes: int) -> None:
        self._redis = redis
        self._local = _LocalLRU(max_bytes)
        self.hits = 0
        self.misses = 0
        self.stores = 0

    async def get(self, key: str) -> bytes | None:
        value = await self._get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    async def _get(self, key: str) -> bytes | None:
        client = self._redis.client
        if client is not None:
            try:
                value = await client.get(_REDIS_PREFIX + key)
                return value.encode() if isinstance(value, str) else value
            except redis_failures() as exc:
                self._redis.lost(exc)
        return self._local.get(key)

    async def put(self, key: str, value: bytes, ttl: int) -> None:
        self.stores += 1
        client = self._redis.client
        if client is not None:
            try:
                await client.set(_REDIS_PREFIX + key, value, ex=ttl)
                return
            except redis_failures() as exc:
                self._redis.lost(exc)
        self._local.put(key, value, ttl)

    def describe(self) -> dict[str, Any]:
        """Counters for /metrics and health: hits, misses, stores, local entries and bytes."""
        return {
            "backend": "redis" if self._redis.client is not None else "local",
            "hits": self.hits,
            "misses": self.misses,
            "stores": self.stores,
            "local_entries": len(self._local),
            "local_bytes": self._local.size,
            "local_max_bytes": self._local.max_bytes,
        }


def _chunk(base: dict[str, Any], choices: list[dict[str, Any]], **extra: Any) -> bytes:
    return encode_event(orjson.dumps({**base, "choices": choices, **extra}))


def _chat_delta(message: dict[str, Any]) -> dict[str, Any]:
    delta: dict[str, Any] = {"role": message.get("role") or "assistant", "content": message.get("content")}
    for name in ("refusal", "function_call", "audio"):
        if message.get(name) is not None:
            delta[name] = message[name]
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list) and tool_calls:
        delta["tool_calls"] = [{"index": index, **call} for index, call in enumerate(tool_calls)]
    return delta


def _chat_chunks(answer: dict[str, Any], base: dict[str, Any]) -> list[bytes]:
    base = {**base, "object": "chat.completion.chunk"}
    if answer.get("system_fingerprint") is not None:
        base["system_fingerprint"] = answer["system_fingerprint"]
    chunks: list[bytes] = []
    for choice in answer.get("choices") or []:
        index = choice.get("index", 0)
        delta = _chat_delta(choice.get("message") or {})
        first = {"index": index, "delta": delta, "logprobs": choice.get("logprobs"), "finish_reason": None}
        chunks.append(_chunk(base, [first]))
        last = {"index": index, "delta": {}, "logprobs": None, "finish_reason": choice.get("finish_reason")}
        chunks.append(_chunk(base, [last]))
    return chunks


def _completion_chunks(answer: dict[str, Any], base: dict[str, Any]) -> list[bytes]:
    base = {**base, "object": "text_completion"}
    chunks: list[bytes] = []
    for choice in answer.get("choices") or []:
        index = choice.get("index", 0)
        text = {"index": index, "text": choice.get("text", ""), "logprobs": choice.get("logprobs")}
        chunks.append(_chunk(base, [{**text, "finish_reason": None}]))
        chunks.append(
            _chunk(base, [{"index": index, "text": "", "finish_reason": choice.get("finish_reason")}])
        )
    return chunks


def replay_as_stream(body: bytes, include_usage: bool) -> bytes | None:
    """A stored chat or text completion as the SSE stream the upstream would have sent.

    None when the stored answer is of a kind that has no stream form.
    """
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(answer, dict):
        return None
    base = {"id": answer.get("id"), "created": answer.get("created"), "model": answer.get("model")}
    kind = answer.get("object")
    if kind == "chat.completion":
        chunks = _chat_chunks(answer, base)
    elif kind == "text_completion":
        chunks = _completion_chunks(answer, base)
    else:
        return None
    usage = answer.get("usage")
    if include_usage and isinstance(usage, dict):
        object_name = "chat.completion.chunk" if kind == "chat.completion" else "text_completion"
        chunks.append(_chunk({**base, "object": object_name}, [], usage=usage))
    chunks.append(DONE)
    return b"".join(chunks)
