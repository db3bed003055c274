"""GET /metrics: Prometheus text format, fed from usage events off the request path.

The usage writer shows each event to ``Metrics.observe`` once, just before storing it,
so the request path pays nothing for metrics; ``observe`` only adds to plain dicts
(about 1 us per event). Process-wide figures (queue depth, dropped events, breakers,
cache, Redis) are read when scraped.

Access: the bearer ``RELAYGATE_METRICS_TOKEN`` sees every workspace; an admin key sees
the series of its own workspace plus the process-wide ones. Labels carry workspace
ids, router model ids, endpoint names and statuses, never keys or other secrets.
"""

from __future__ import annotations

import hmac
import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from relaygate.errors import PermissionDenied
from relaygate.router.app import authenticate

if TYPE_CHECKING:
    from relaygate.runtime import Runtime
    from relaygate.usage.events import UsageEvent

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
_MODEL_LABELS = ("workspace", "model", "endpoint")


class ProcessCollector(Collector):
    """Figures read at scrape time from the components that own them."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterable[Metric]:
        runtime = self._runtime
        recorder = runtime.recorder
        yield _gauge("relaygate_usage_queue_depth", "Usage events waiting to be stored", recorder.depth)
        yield _gauge("relaygate_usage_events_dropped", "Usage events lost to a full queue", recorder.dropped)
        yield _gauge(
            "relaygate_usage_events_written", "Usage events stored by this process", recorder.written
        )
        yield _gauge("relaygate_store_up", "1 while the store accepts usage writes", recorder.store_healthy)
        yield _gauge("relaygate_redis_up", "1 while Redis is configured and reachable", runtime.redis.up)
        yield _gauge("relaygate_redis_outages", "Times Redis became unreachable", runtime.redis.outages)
        push_live, draining = runtime.catalog.push_live, runtime.drain.draining
        yield _gauge("relaygate_catalog_push_live", "1 while catalog changes arrive by pub/sub", push_live)
        yield _gauge("relaygate_draining", "1 after SIGTERM, while in-flight work drains", draining)
        yield _gauge("relaygate_router_in_flight", "Router calls being served now", runtime.router.in_flight)
        lookups = runtime.catalog.store_lookups
        yield CounterMetricFamily(
            "relaygate_auth_store_lookups",
            "Keys the catalog did not know, looked up in the store before a 401",
            value=lookups["key"],
        )
        yield CounterMetricFamily(
            "relaygate_model_store_lookups",
            "Models the catalog did not know, looked up in the store before a 404",
            value=lookups["model"],
        )
        cache = runtime.cache.describe()
        yield _gauge("relaygate_cache_entries", "Answers in the local cache", cache.get("local_entries", 0))
        yield _gauge("relaygate_cache_bytes", "Bytes in the local cache", cache.get("local_bytes", 0))
        breakers = GaugeMetricFamily(
            "relaygate_breaker_state",
            "Circuit breaker per upstream: 0 closed, 1 half open, 2 open",
            labels=["workspace", "model"],
        )
        for state in runtime.breakers.snapshot():
            value = {"closed": 0, "half_open": 1, "open": 2}.get(state.state, 0)
            breakers.add_metric([state.workspace_id, state.router_id], value)
        yield breakers


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


@dataclass(slots=True)
class _Histogram:
    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, float]]:
        running, out = 0, []
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == math.inf else repr(bound), float(running)))
        return out


@dataclass(slots=True)
class _Series:
    """Everything counted for one (workspace, model, endpoint)."""

    requests: dict[str, int] = field(default_factory=dict)  # by status
    errors: dict[tuple[str, str], int] = field(default_factory=dict)  # by (status, code)
    upstream_errors: dict[str, int] = field(default_factory=dict)  # by status
    latency: _Histogram = field(default_factory=lambda: _Histogram(LATENCY_BUCKETS))
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_nano: int = 0
    cache_hits: int = 0


_UPSTREAM_CODES = frozenset({"upstream_error", "upstream_unreachable", "upstream_timeout"})


class Metrics(Collector):
    """Counts usage events in plain dicts (a few microseconds each) and turns them into
    Prometheus families only when scraped."""

    def __init__(self, runtime: Runtime) -> None:
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._overhead: dict[str, _Histogram] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        self.registry.register(ProcessCollector(runtime))

    def observe(self, event: UsageEvent) -> None:
        key = (event.workspace_id, event.router_model or "", event.endpoint)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        status = str(event.status)
        series.requests[status] = series.requests.get(status, 0) + 1
        series.latency.observe(event.latency_ms / 1000)
        if event.overhead_ms is not None:
            overhead = self._overhead.get(event.endpoint)
            if overhead is None:
                overhead = self._overhead[event.endpoint] = _Histogram(OVERHEAD_BUCKETS)
            overhead.observe(max(0.0, event.overhead_ms) / 1000)
        if event.is_error:
            error = (status, event.error_code or "")
            series.errors[error] = series.errors.get(error, 0) + 1
            if event.error_code in _UPSTREAM_CODES:
                series.upstream_errors[status] = series.upstream_errors.get(status, 0) + 1
        series.prompt_tokens += event.prompt_tokens
        series.completion_tokens += event.completion_tokens
        series.cost_nano += event.cost_nano
        series.cache_hits += event.cache_hit

    def collect(self) -> Iterable[Metric]:
        labels = list(_MODEL_LABELS)
        requests = CounterMetricFamily(
            "relaygate_requests", "Router calls by status", labels=[*labels, "status"]
        )
        errors = CounterMetricFamily(
            "relaygate_errors",
            "Router calls that failed, by status and code",
            labels=[*labels, "status", "code"],
        )
        upstream = CounterMetricFamily(
            "relaygate_upstream_errors",
            "Failures of upstreams (their errors, timeouts, unreachable)",
            labels=[*labels, "status"],
        )
        latency = HistogramMetricFamily(
            "relaygate_request_duration_seconds", "Router call latency, end to end", labels=labels
        )
        tokens = CounterMetricFamily("relaygate_tokens", "Tokens by kind", labels=[*labels, "kind"])
        cost = CounterMetricFamily("relaygate_cost_usd", "Cost in USD", labels=labels)
        cache_hits = CounterMetricFamily(
            "relaygate_cache_hits", "Calls answered from the cache", labels=labels
        )
        for key, series in list(self._series.items()):
            values = list(key)
            for status, count in series.requests.items():
                requests.add_metric([*values, status], count)
            for (status, code), count in series.errors.items():
                errors.add_metric([*values, status, code], count)
            for status, count in series.upstream_errors.items():
                upstream.add_metric([*values, status], count)
            latency.add_metric(values, series.latency.cumulative(), series.latency.total)
            tokens.add_metric([*values, "prompt"], series.prompt_tokens)
            tokens.add_metric([*values, "completion"], series.completion_tokens)
            cost.add_metric(values, series.cost_nano / 1e9)
            cache_hits.add_metric(values, series.cache_hits)
        overhead = HistogramMetricFamily(
            "relaygate_overhead_seconds", "Time relaygate itself added to a call", labels=["endpoint"]
        )
        for endpoint, histogram in list(self._overhead.items()):
            overhead.add_metric([endpoint], histogram.cumulative(), histogram.total)
        yield from (requests, errors, upstream, latency, overhead, tokens, cost, cache_hits)

    def render(self, workspace_id: str | None) -> bytes:
        """The exposition; with a workspace, only its own labelled series."""
        if workspace_id is None:
            return generate_latest(self.registry)
        return generate_latest(_OneWorkspace(self.registry, workspace_id))


class _OneWorkspace:
    def __init__(self, registry: CollectorRegistry, workspace_id: str) -> None:
        self._registry = registry
        self._workspace_id = workspace_id

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            kept = Metric(family.name, family.documentation, family.type, family.unit)
            kept.samples = [
                sample
                for sample in family.samples
                if sample.labels.get("workspace", self._workspace_id) == self._workspace_id
            ]
            yield kept


# -- the route ----------------------------------------------------------------------

router = APIRouter(tags=["metrics"])


async def _scope(request: Request) -> str | None:
    """None: every workspace (metrics token); else the admin key's workspace."""
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.metrics_token
    value = request.headers.get("authorization", "")
    scheme, _, presented = value.partition(" ")
    if (
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    ):
        return None
    principal = await authenticate(runtime.catalog, request.scope, runtime.router.auth_throttle)
    if not principal.is_admin:
        raise PermissionDenied("/metrics needs an admin key or the metrics token (RELAYGATE_METRICS_TOKEN).")
    return principal.workspace_id


Scope = Annotated[str | None, Depends(_scope)]


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request, workspace_id: Scope) -> Response:
    runtime: Runtime = request.app.state.runtime
    return Response(runtime.metrics.render(workspace_id), media_type=CONTENT_TYPE_LATEST)
