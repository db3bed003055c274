"""Wire shapes of the /v2/usage and /v2/usage/events JSON answers (absent values omitted: ``api_object``).

The CSV exports do not go through these: a CSV row keeps an empty cell for a value it lacks.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from relaygate.vocab import UsageGroup, UsageInterval

from .api_object import ApiObject, Omittable


class UsageFigures(ApiObject):
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float
    cost_nano: int
    latency_ms_avg: Omittable[float] = None  # no calls, no average
    searches: int  # web searches relaygate ran (their cost is part of cost)
    search_cost: float
    search_cost_nano: int


class UsageRow(UsageFigures):
    bucket: str
    group: Omittable[str] = None  # with group_by, when the call has a value for it


class UsageReport(ApiObject):
    object: Literal["usage"]
    from_: str = Field(alias="from")
    to: str
    interval: UsageInterval
    group_by: Omittable[UsageGroup] = None
    totals: UsageFigures
    series: list[UsageRow]


class UsagePrices(ApiObject):
    """The prices the cost was computed with (decimal text, USD per 1M tokens / per image)."""

    input: Omittable[str] = None
    output: Omittable[str] = None
    image: Omittable[str] = None


class UsageEvent(ApiObject):
    id: str
    object: Literal["usage.event"]
    created: int
    created_at: str
    request_id: str
    router_model: Omittable[str] = None
    upstream_model: Omittable[str] = None
    endpoint: str
    status: int
    error_code: Omittable[str] = None
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    images: int
    audio_seconds: Omittable[float] = None
    audio_characters: Omittable[int] = None
    estimated: bool
    cost: float
    cost_nano: int
    prices: UsagePrices
    latency_ms: float
    ttfb_ms: Omittable[float] = None
    overhead_ms: Omittable[float] = None
    attempts: int
    searches: int  # web searches relaygate ran for the call (their cost is part of cost)
    search_cost: float
    search_cost_nano: int
    search_ms: Omittable[float] = None  # wall time spent searching, part of latency_ms
    fallback_used: bool
    cache_hit: bool
    api_key_id: Omittable[str] = None
    identity_id: Omittable[str] = None
    thread_id: Omittable[str] = None
    thread_tags: Omittable[list[str]] = None
    name: Omittable[str] = None
    metadata: Omittable[dict[str, str]] = None
    deployment_key: Omittable[str] = None  # a call made through a deployment
    deployment_version: Omittable[int] = None
    variant: Omittable[str] = None
    documents: Omittable[list[Any]] = None  # its RAG chunks as sent (64 KiB of JSON at most)
    request_body: Omittable[str] = None  # only with body logging on (RELAYGATE_LOG_BODIES)
    response_body: Omittable[str] = None


class UsageEventList(ApiObject):
    object: Literal["list"]
    data: list[UsageEvent]
    next_cursor: Omittable[str] = None  # absent on the last page
