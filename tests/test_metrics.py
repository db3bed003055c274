"""GET /metrics: Prometheus text, for an admin key (its workspace) or the metrics token;
and, in-process, what ``observability.metrics`` makes of usage events and process gauges."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from relaygate.observability.metrics import BreakerGauge, Metrics, ProcessGauges, UsageCounters
from relaygate.usage.events import UsageEvent

from support.server import RelaygateServer, Workspace
from support.usage_events import usage_events
from tests_shared import assert_openai_error
from upstream import FakeUpstream, Fault

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
TOKEN = "metrics-token-for-tests-0123456789"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and labels.items() <= dict(sample_labels).items()
    )


def test_metrics_count_calls_tokens_cost_and_errors(
    relaygate_factory: Callable[..., RelaygateServer], fake_upstream: FakeUpstream
) -> None:
    server = relaygate_factory(RELAYGATE_METRICS_TOKEN=TOKEN)
    workspace = server.new_workspace()
    model = workspace.add_model(fake_upstream, "gpt-test", input_cost="1", output_cost="2")["router_id"]
    client = workspace.client()
    client.chat.completions.create(model=model, messages=MESSAGES)
    list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))
    fake_upstream.script("/chat/completions", [Fault(status=503)])
    with pytest.raises(openai.APIStatusError):  # the 5xx is what we are counting
        client.chat.completions.create(model=model, messages=MESSAGES)
    events = usage_events(workspace, 3)
    time.sleep(0.3)

    response = server.api("GET", "/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    ws = _workspace_id(workspace)
    assert _value(samples, "relaygate_requests_total", workspace=ws, model=model, status="200") == 2
    assert _value(samples, "relaygate_errors_total", workspace=ws, model=model) == 1
    assert _value(samples, "relaygate_upstream_errors_total", workspace=ws, model=model) == 1
    tokens = sum(event["total_tokens"] for event in events)
    assert _value(samples, "relaygate_tokens_total", workspace=ws, model=model) == tokens
    cost = sum(event["cost_nano"] for event in events) / 1e9
    assert abs(_value(samples, "relaygate_cost_usd_total", workspace=ws, model=model) - cost) < 1e-9
    assert _value(samples, "relaygate_request_duration_seconds_count", workspace=ws) == 3
    assert _value(samples, "relaygate_overhead_seconds_count") >= 1
    for gauge in ("relaygate_usage_queue_depth", "relaygate_usage_events_dropped", "relaygate_store_up"):
        assert (gauge, ()) in samples
    assert _value(samples, "relaygate_usage_events_dropped") == 0
    assert "rg-" not in response.text
    assert fake_upstream.api_key
    assert fake_upstream.api_key not in response.text


def _workspace_id(workspace: Workspace) -> str:
    keys = workspace.api("GET", "/v2/api-keys").json()["data"]
    return str(keys[0]["workspace_id"])


def test_metrics_need_an_admin_key_or_the_token_and_show_one_workspace(
    relaygate: RelaygateServer, workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    workspace.client().chat.completions.create(model=model, messages=MESSAGES)
    usage_events(workspace, 1)
    time.sleep(0.3)
    assert_openai_error(relaygate.api("GET", "/metrics"), 401, "authentication_error")
    router_key = workspace.new_key("router")
    assert_openai_error(workspace.api("GET", "/metrics", key=router_key), 403, "permission_error")
    own = workspace.api("GET", "/metrics")
    assert own.status_code == 200
    assert model in own.text
    other = relaygate.new_workspace().api("GET", "/metrics")
    assert other.status_code == 200
    assert _workspace_id(workspace) not in other.text
    assert "relaygate_usage_queue_depth" in other.text


def test_metrics_count_calls_when_usage_events_are_not_stored(
    relaygate_factory: Callable[..., RelaygateServer], fake_upstream: FakeUpstream
) -> None:
    server = relaygate_factory(RELAYGATE_METRICS_TOKEN=TOKEN, RELAYGATE_USAGE_ENABLED="0")
    workspace = server.new_workspace()
    model = workspace.add_model(fake_upstream, "gpt-test")["router_id"]
    client = workspace.client()
    for _ in range(3):
        client.chat.completions.create(model=model, messages=MESSAGES)
    ws = _workspace_id(workspace)
    deadline = time.monotonic() + 10
    while True:  # the recorder shows events to the metrics in batches, within its flush interval
        text = server.api("GET", "/metrics", headers={"authorization": f"Bearer {TOKEN}"}).text
        counted = _value(_samples(text), "relaygate_requests_total", workspace=ws, model=model, status="200")
        if counted == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert counted == 3
    assert _value(_samples(text), "relaygate_usage_events_written") == 0
    assert workspace.api("GET", "/v2/usage/events").json()["data"] == []


# -- in-process: the exposition of usage counters and gauges ---------------------------


@dataclass(frozen=True)
class _Breaker:
    workspace_id: str
    router_id: str
    state: str


_IDLE = ProcessGauges(
    usage_queue_depth=0,
    usage_events_dropped=0,
    usage_events_written=0,
    store_up=True,
    redis_up=False,
    redis_outages=0,
    catalog_push_live=False,
    draining=False,
    router_in_flight=0,
    key_store_lookups=0,
    model_store_lookups=0,
    cache_entries=0,
    cache_bytes=0,
    breakers=(),
)


@dataclass
class _Gauges:
    """A ``GaugeSource`` whose figures the test sets between two scrapes."""

    now: ProcessGauges = _IDLE
    reads: list[ProcessGauges] = field(default_factory=list)

    def gauges(self) -> ProcessGauges:
        self.reads.append(self.now)
        return self.now


def _event(workspace: str, model: str, status: int = 200, **fields: Any) -> UsageEvent:
    event = UsageEvent(workspace, "key", "chat", "req", router_model=model, status=status, **fields)
    event.latency_ms = 40.0
    return event


def test_counters_and_gauges_render_together_and_are_read_at_scrape_time() -> None:
    counters, gauges = UsageCounters(), _Gauges()
    metrics = Metrics(counters, gauges)
    counters.observe(_event("ws1", "m/a", prompt_tokens=3, completion_tokens=4, cost_nano=2_000))
    counters.observe(_event("ws1", "m/a", status=502, error_code="upstream_error"))
    breakers: Sequence[BreakerGauge] = (_Breaker("ws1", "m/a", "open"), _Breaker("ws2", "m/b", "half_open"))
    gauges.now = replace(_IDLE, usage_queue_depth=7, router_in_flight=2, draining=True, breakers=breakers)
    assert gauges.reads == []  # nothing is read before a scrape

    samples = _samples(metrics.render(None).decode())
    assert len(gauges.reads) == 1
    assert _value(samples, "relaygate_requests_total", workspace="ws1", model="m/a", status="200") == 1
    assert _value(samples, "relaygate_upstream_errors_total", workspace="ws1", status="502") == 1
    assert _value(samples, "relaygate_tokens_total", workspace="ws1", kind="completion") == 4
    assert _value(samples, "relaygate_cost_usd_total", workspace="ws1") == 2e-6
    assert _value(samples, "relaygate_usage_queue_depth") == 7
    assert _value(samples, "relaygate_router_in_flight") == 2
    assert _value(samples, "relaygate_draining") == 1
    assert _value(samples, "relaygate_breaker_state", workspace="ws1", model="m/a") == 2
    assert _value(samples, "relaygate_breaker_state", workspace="ws2", model="m/b") == 1


def test_one_workspace_sees_its_own_series_and_the_process_wide_ones() -> None:
    counters, gauges = UsageCounters(), _Gauges()
    gauges.now = replace(_IDLE, breakers=(_Breaker("ws2", "m/b", "open"),), usage_queue_depth=3)
    counters.observe(_event("ws1", "m/a"))
    counters.observe(_event("ws2", "m/b"))

    text = Metrics(counters, gauges).render("ws1").decode()
    samples = _samples(text)
    assert _value(samples, "relaygate_requests_total", workspace="ws1") == 1
    assert "ws2" not in text
    assert _value(samples, "relaygate_usage_queue_depth") == 3
