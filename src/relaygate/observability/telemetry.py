"""OpenTelemetry traces of router calls, only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

Off (the default), nothing of OpenTelemetry is even imported. On, the SDK is imported
at start-up and configured from the standard OTEL_* variables (endpoint, headers,
timeout, ``OTEL_SERVICE_NAME``) with the OTLP/HTTP exporter and a batch processor.
Spans are made from usage events by the usage writer, with the call's real start and
end times, so the request path pays only for keeping the client's ``traceparent``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer

    from relaygate.usage.events import UsageEvent

log = logging.getLogger("relaygate.observability.telemetry")
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_configured(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return any(env.get(name) for name in _ENDPOINT_VARIABLES) and env.get("OTEL_SDK_DISABLED") != "true"


class Telemetry:
    def __init__(self) -> None:
        self._provider: TracerProvider | None = None
        self._tracer: Tracer | None = None

    def start(self) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from relaygate import __version__

        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "relaygate"})
        self._provider = TracerProvider(resource=resource)
        self._provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self._tracer = self._provider.get_tracer("relaygate", __version__)
        log.info("OpenTelemetry traces are exported over OTLP/HTTP")

    def observe(self, event: UsageEvent) -> None:
        if self._tracer is None:
            return
        from opentelemetry.trace import Status, StatusCode
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        parent = (
            TraceContextTextMapPropagator().extract({"traceparent": event.trace_parent})
            if event.trace_parent
            else None
        )
        start = event.created_us * 1000
        span = self._tracer.start_span(
            f"{event.endpoint} {event.router_model or ''}".strip(),
            context=parent,
            start_time=start,
            attributes=_attributes(event),
        )
        if event.is_error:
            span.set_status(Status(StatusCode.ERROR, event.error_code or str(event.status)))
        span.end(end_time=start + int(event.latency_ms * 1e6))

    def stop(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()  # exports what the batch processor still holds


def _attributes(event: UsageEvent) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": event.endpoint,
        "gen_ai.request.model": event.router_model or "",
        "gen_ai.response.model": event.upstream_model or "",
        "gen_ai.usage.input_tokens": event.prompt_tokens,
        "gen_ai.usage.output_tokens": event.completion_tokens,
        "http.response.status_code": event.status,
        "relaygate.request_id": event.request_id,
        "relaygate.workspace_id": event.workspace_id,
        "relaygate.stream": event.stream,
        "relaygate.cost_usd": event.cost_nano / 1e9,
        "relaygate.attempts": event.attempts,
        "relaygate.cache_hit": event.cache_hit,
        "relaygate.estimated_usage": event.estimated,
    }
    optional = {
        "relaygate.api_key_id": event.api_key_id,
        "relaygate.identity_id": event.identity_id,
        "relaygate.thread_id": event.thread_id,
        "relaygate.error_code": event.error_code,
        "relaygate.ttfb_ms": event.ttfb_ms,
        "relaygate.overhead_ms": event.overhead_ms,
    }
    attributes.update((key, value) for key, value in optional.items() if value is not None)
    return attributes
