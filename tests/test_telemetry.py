"""OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, each router call becomes a span
exported over OTLP/HTTP (to a real receiver on loopback), parented to the client's trace."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from support.server import RelaygateServer
from upstream import FakeUpstream

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


class _Receiver(ThreadingHTTPServer):
    spans: list[Any]


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.server.spans.extend(scope.spans)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver(("127.0.0.1", 0), _Handler)
    server.spans = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_router_calls_become_spans(
    relaygate_factory: Callable[..., RelaygateServer], upstream: FakeUpstream, receiver: _Receiver
) -> None:
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    server = relaygate_factory(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_BSP_SCHEDULE_DELAY="100")
    workspace = server.new_workspace()
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    traceparent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    client = workspace.client().with_options(default_headers={"traceparent": traceparent})
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    deadline = time.monotonic() + 10
    while not receiver.spans and time.monotonic() < deadline:
        time.sleep(0.05)
    (span,) = receiver.spans
    attributes = {item.key: item.value for item in span.attributes}
    assert span.name == f"chat.completions {model}"
    assert span.trace_id.hex() == TRACE_ID
    assert attributes["gen_ai.request.model"].string_value == model
    assert attributes["http.response.status_code"].int_value == 200
    assert attributes["gen_ai.usage.input_tokens"].int_value > 0
    assert span.end_time_unix_nano > span.start_time_unix_nano
