"""Fuzzing: schemathesis against relaygate's own OpenAPI document (/v2) and
hypothesis-generated bodies for every /v3/router endpoint. Zero 5xx, zero tracebacks.

Example counts are bounded (``FUZZ_EXAMPLES``) so the whole run takes a minute or two.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaygate.router.endpoints import ENDPOINTS

from support.server import RelaygateServer, make_server
from upstream import FakeUpstream

pytestmark = pytest.mark.fuzz
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    env = {
        "RELAYGATE_AUTH_FAILURE_LIMIT": "0",  # fuzzed keys must not lock the fuzzer out
        "RELAYGATE_PROBE_TIMEOUT": "2",
        "RELAYGATE_CONNECT_TIMEOUT": "1",
    }
    server = make_server(Path(tmp_path_factory.mktemp("fuzz")), **env).start()
    yield server
    assert "Traceback" not in server.log()
    server.stop()


@pytest.fixture(scope="module")
def fuzz_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzz_server: RelaygateServer, fuzz_upstream: FakeUpstream) -> Any:
    workspace = fuzz_server.new_workspace("fuzz")
    workspace.add_model(fuzz_upstream, "gpt-test")
    fuzz_server.env["FUZZ_ADMIN_KEY"] = workspace.admin_key
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")


def test_v2_api_never_fails_with_5xx(api_schema: Any, fuzz_server: RelaygateServer) -> None:
    # schemathesis's own pytest plugin does not run under this pytest; its strategies do.
    key = fuzz_server.env["FUZZ_ADMIN_KEY"]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10

    failures: list[str] = []
    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case[Any]) -> None:
            status, content_type, text = _answer(case, key)
            where = f"{case.method} {case.formatted_path}"
            assert status < 500, f"{where}: {text[:500]}"
            assert "Traceback" not in text
            if status >= 400 and content_type.startswith("application/json"):
                assert set(orjson.loads(text)["error"]) >= {"message", "type", "param", "code"}, where

        try:
            fuzz()
        except Exception as exc:  # every operation is fuzzed; all failures are reported together
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    assert not failures, "\n".join(failures)


def _answer(case: schemathesis.Case[Any], key: str) -> tuple[int, str, str]:
    """The case's status, content type and body. A GET of an event stream is read up to its
    headers: a live tail that opened never ends by itself."""
    headers = {"authorization": f"Bearer {key}"}
    if case.method == "GET" and case.path.endswith(("/stream", "/events")):
        sent = case.as_transport_kwargs(headers=headers)
        with httpx.stream(
            "GET", sent["url"], params=sent.get("params"), headers=sent["headers"], timeout=30
        ) as live:
            content_type = live.headers.get("content-type", "")
            if content_type.startswith("text/event-stream"):
                return live.status_code, content_type, ""
            return live.status_code, content_type, live.read().decode("utf-8", "replace")
    response = case.call(headers=headers, timeout=30)
    return response.status_code, " ".join(response.headers.get("content-type") or []), response.text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
ROUTER_FIELDS = ("model", "messages", "stream", "stream_options", "input", "prompt", "retry",
                 "fallbacks", "load_balancer", "cache", "timeout", "orq", "max_tokens", "temperature", "n",
                 "tools")  # fmt: skip
bodies = st.one_of(
    st.fixed_dictionaries({}, optional={field: json_values for field in ROUTER_FIELDS}),
    st.fixed_dictionaries(
        {"model": st.just("fake/gpt-test")},
        optional={field: json_values for field in ROUTER_FIELDS if field != "model"},
    ),
    json_values,
)


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_router_endpoints_never_fail_with_5xx(
    path: str, fuzz_server: RelaygateServer, api_schema: Any, fuzz_upstream: FakeUpstream
) -> None:
    key = fuzz_server.env["FUZZ_ADMIN_KEY"]
    client = httpx.Client(base_url=f"{fuzz_server.url}/v3/router", headers={"authorization": f"Bearer {key}"})

    @FUZZ_SETTINGS
    @given(body=bodies)
    def fuzz(body: Any) -> None:
        response = client.post(path, json=body, timeout=30)
        assert response.status_code < 500 or _upstream_failure(response), (
            f"{path} {body!r}: {response.text[:300]}"
        )
        assert "Traceback" not in response.text

    try:
        fuzz()
    finally:
        client.close()


def _upstream_failure(response: httpx.Response) -> bool:
    """A 5xx that reports the (fake) upstream's own failure is an answer, not a crash of ours."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(code, str) and code.startswith("upstream")
