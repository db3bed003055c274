"""One usage event per router call: what it consumed, what it cost, who made it.

An event is a plain slotted object filled in as the call goes (the request path only
sets attributes) and stored later by the recorder. It never holds a secret, nor a
prompt or an answer unless the operator turned body logging on (``body_log.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relaygate.store.records import from_micros, micros, new_event_id, now_micros

# Only these attributes become columns (in this order; created_at is read as created_us,
# microseconds); the rest is working state.
COLUMNS = (
    "id",
    "workspace_id",
    "api_key_id",
    "endpoint",
    "request_id",
    "router_model",
    "upstream_model",
    "status",
    "stream",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "images",
    "audio_seconds",
    "audio_characters",
    "estimated",
    "cost_nano",
    "input_price",
    "output_price",
    "image_price",
    "latency_ms",
    "ttfb_ms",
    "overhead_ms",
    "attempts",
    "fallback_used",
    "cache_hit",
    "error_code",
    "identity_id",
    "thread_id",
    "thread_tags",
    "name",
    "request_metadata",
    "request_body",
    "response_body",
    "deployment_key",
    "deployment_version",
    "variant",
    "documents",
    "searches",
    "search_cost_nano",
    "search_ms",
    "attempt_log",
    "requested_model",
    "error_message",
    "created_at",
)


@dataclass(slots=True)
class UsageEvent:
    workspace_id: str
    api_key_id: str | None
    endpoint: str
    request_id: str
    router_model: str | None = None
    upstream_model: str | None = None
    status: int = 0
    stream: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    images: int = 0
    audio_seconds: float | None = None
    audio_characters: int | None = None
    estimated: bool = False
    cost_nano: int = 0
    input_price: str | None = None
    output_price: str | None = None
    image_price: str | None = None
    latency_ms: float = 0.0
    ttfb_ms: float | None = None
    overhead_ms: float | None = None
    attempts: int = 1
    fallback_used: bool = False
    cache_hit: bool = False
    error_code: str | None = None
    identity_id: str | None = None
    thread_id: str | None = None
    thread_tags: list[str] | None = None
    name: str | None = None
    request_metadata: dict[str, str] | None = None
    request_body: str | None = None  # only when the operator turned body logging on
    response_body: str | None = None
    deployment_key: str | None = None  # the call came through this deployment
    deployment_version: int | None = None
    variant: str | None = None  # the deployment's variant that served it
    documents: list[Any] | None = None  # a deployment call's RAG chunks, as sent
    searches: int = 0  # web searches relaygate ran for the call
    search_cost_nano: int = 0  # part of cost_nano
    search_ms: float | None = None  # wall time spent searching (None: no search)
    # The routing story of a call that had more than one way to go: the policy's tuples
    # (router_model, upstream_model, status, error_code, ms, kind), JSON only in the writer.
    attempt_log: list[tuple[Any, ...]] | None = None
    requested_model: str | None = None  # the model the client named, when another one answered
    error_message: str | None = None  # what relaygate's error answer told the client
    # When the call came, in microseconds since the epoch: the writers take it as it is
    # (pickling a datetime cost about as much as the rest of the event), ``created_at``
    # gives it as a datetime.
    created_us: int = field(default_factory=now_micros)
    id: str = field(default_factory=new_event_id)
    # Working state, never stored as such.
    usage_seen: bool = False  # the upstream reported usage (else tokens may be estimated)
    identity: dict[str, Any] | None = None  # the body's identity object, upserted by the writer
    trace_parent: str | None = None  # the client's W3C traceparent, kept only when tracing is on
    observed: bool = False  # counted in /metrics already (a batch may be written twice)

    def apply_usage(self, usage: dict[str, Any]) -> None:
        """Take the token counts of an OpenAI ``usage`` object (chat, completions or responses)."""
        self.usage_seen = True
        prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
        completion = usage.get("completion_tokens", usage.get("output_tokens"))
        total = usage.get("total_tokens")
        if prompt is None and completion is None:
            prompt = total  # an input-only answer (rerank, some embeddings): all of it is input
        self.prompt_tokens = _int(prompt)
        self.completion_tokens = _int(completion)
        self.total_tokens = _int(total) if total is not None else self.prompt_tokens + self.completion_tokens
        prompt_details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details")
        if isinstance(prompt_details, dict):
            self.cached_tokens = _int(prompt_details.get("cached_tokens"))
        completion_details = usage.get("completion_tokens_details") or usage.get("output_tokens_details")
        if isinstance(completion_details, dict):
            self.reasoning_tokens = _int(completion_details.get("reasoning_tokens"))

    @property
    def created_at(self) -> datetime:
        return from_micros(self.created_us)

    @created_at.setter
    def created_at(self, value: datetime) -> None:
        self.created_us = micros(value)

    @property
    def is_error(self) -> bool:
        return self.status >= 400 or self.status == 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
