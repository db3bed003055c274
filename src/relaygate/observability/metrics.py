"""What ``GET /metrics`` shows, in Prometheus text format; the route is the control plane's
(``control/metrics_api.py``).

Two kinds of figures:

- ``UsageCounters`` counts usage events off the request path: the usage writer shows each
  event to ``observe`` once, just before storing it, so the request path pays nothing for
  metrics; ``observe`` only adds to plain dicts (about 1 us per event).
- ``ProcessGauges`` are process-wide figures (queue depth, dropped events, breakers,
  cache, Redis), read from a ``GaugeSource`` when scraped. This module knows that small
  interface only, never the components behind it (the runtime satisfies it).

``Metrics`` puts both in one registry and renders it, whole for the metrics token or
filtered to one workspace for an admin key. Labels carry workspace ids, router model
ids, endpoint names and statuses, never keys or other secrets.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from relaygate.usage.events import UsageEvent

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
_MODEL_LABELS = ("workspace", "model", "endpoint")


class BreakerGauge(Protocol):
    """One upstream's circuit breaker, as far as /metrics shows it."""

    @property
    def workspace_id(self) -> str: ...
    @property
    def router_id(self) -> str: ...
    @property
    def state(self) -> str: ...  # closed | half_open | open


@dataclass(frozen=True, slots=True)
class ProcessGauges:
    """The process-wide figures of one scrape."""

    usage_queue_depth: int
    usage_events_dropped: int
    usage_events_written: int
    store_up: bool
    redis_up: bool
    redis_outages: int
    catalog_push_live: bool
    draining: bool
    router_in_flight: int
    key_store_lookups: int
    model_store_lookups: int
    cache_entries: int
    cache_bytes: int
    breakers: Sequence[BreakerGauge]
    model_health: Sequence[HealthGauge] = ()


class HealthGauge(Protocol):
    """One model's health state (``control/health_rules.py``), as far as /metrics shows it."""

    @property
    def workspace_id(self) -> str: ...
    @property
    def router_id(self) -> str: ...
    @property
    def state(self) -> str: ...  # unknown | ok | degraded | failing | breaker_open


class GaugeSource(Protocol):
    def gauges(self) -> ProcessGauges: ...


_BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}
_HEALTH_STATES = {"unknown": 0, "ok": 1, "degraded": 2, "failing": 3, "breaker_open": 4}


class _ProcessCollector(Collector):
    """The gauges, read from their source at scrape time."""

    def __init__(self, source: GaugeSource) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        now = self._source.gauges()
        yield _gauge(
            "relaygate_usage_queue_depth", "Usage events waiting to be stored", now.usage_queue_depth
        )
        yield _gauge(
            "relaygate_usage_events_dropped", "Usage events lost to a full queue", now.usage_events_dropped
        )
        yield _gauge(
            "relaygate_usage_events_written", "Usage events stored by this process", now.usage_events_written
        )
        yield _gauge("relaygate_store_up", "1 while the store accepts usage writes", now.store_up)
        yield _gauge("relaygate_redis_up", "1 while Redis is configured and reachable", now.redis_up)
        yield _gauge("relaygate_redis_outages", "Times Redis became unreachable", now.redis_outages)
        yield _gauge(
            "relaygate_catalog_push_live", "1 while catalog changes arrive by pub/sub", now.catalog_push_live
        )
        yield _gauge("relaygate_draining", "1 after SIGTERM, while in-flight work drains", now.draining)
        yield _gauge("relaygate_router_in_flight", "Router calls being served now", now.router_in_flight)
        yield CounterMetricFamily(
            "relaygate_auth_store_lookups",
            "Keys the catalog did not know, looked up in the store before a 401",
            value=now.key_store_lookups,
        )
        yield CounterMetricFamily(
            "relaygate_model_store_lookups",
            "Models the catalog did not know, looked up in the store before a 404",
            value=now.model_store_lookups,
        )
        yield _gauge("relaygate_cache_entries", "Answers in the local cache", now.cache_entries)
        yield _gauge("relaygate_cache_bytes", "Bytes in the local cache", now.cache_bytes)
        breakers = GaugeMetricFamily(
            "relaygate_breaker_state",
            "Circuit breaker per upstream: 0 closed, 1 half open, 2 open",
            labels=["workspace", "model"],
        )
        for breaker in now.breakers:
            breakers.add_metric(
                [breaker.workspace_id, breaker.router_id], _BREAKER_STATES.get(breaker.state, 0)
            )
        yield breakers
        health = GaugeMetricFamily(
            "relaygate_model_health",
            "Model health: 0 unknown, 1 ok, 2 degraded, 3 failing, 4 breaker open (refreshed every 15 s)",
            labels=["workspace", "model"],
        )
        for model in now.model_health:
            health.add_metric([model.workspace_id, model.router_id], _HEALTH_STATES.get(model.state, 0))
        yield health


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


class UsageCounters(Collector):
    """Counts usage events in plain dicts (a few microseconds each) and turns them into
    Prometheus families only when scraped. A usage observer (``usage/recorder.py``)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._overhead: dict[str, _Histogram] = {}

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


class Metrics:
    """The exposition: the usage counters and the process gauges in one registry."""

    def __init__(self, counters: UsageCounters, gauges: GaugeSource) -> None:
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(counters)
        self._registry.register(_ProcessCollector(gauges))

    def render(self, workspace_id: str | None) -> bytes:
        """The exposition; with a workspace, only its own labelled series."""
        if workspace_id is None:
            return generate_latest(self._registry)
        return generate_latest(_OneWorkspace(self._registry, workspace_id))


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
