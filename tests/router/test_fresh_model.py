"""A model created through another relaygate process is served at once.

Two processes share one store (the same SQLite file and master key, or the same
PostgreSQL database), poll it only every 10 minutes and have no Redis: the first process
can only know a model the second one created a moment ago by looking it up in the store.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.server import RelaygateServer, Workspace, make_server
from tests_shared import assert_openai_error
from upstream import FakeUpstream

SLOW_CATALOG = {
    "RELAYGATE_CATALOG_POLL_INTERVAL": "600",
    "RELAYGATE_REDIS_URL": "",
    "RELAYGATE_CATALOG_MISS_TTL": "300",  # however slow the machine, a repeated miss is remembered
}
STARTUP_S = 120.0  # two servers start on a busy machine


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RelaygateServer, RelaygateServer]]:
    root: Path = tmp_path_factory.mktemp("fresh-model")
    first = make_server(root / "a", **SLOW_CATALOG).start(timeout=STARTUP_S)
    shared = {
        "RELAYGATE_HOME": first.env["RELAYGATE_HOME"],
        "RELAYGATE_DATABASE_URL": first.env.get("RELAYGATE_DATABASE_URL", ""),  # "": the SQLite file
    }
    try:
        second = make_server(root / "b", **SLOW_CATALOG, **shared).start(timeout=STARTUP_S)
    except BaseException:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        second.stop()
        first.stop()


def model_lookups(server: RelaygateServer) -> int:
    text = server.api("GET", "/metrics", key=server.admin_key).text
    found = re.search(r"^relaygate_model_store_lookups_total ([0-9.e+]+)$", text, re.MULTILINE)
    assert found is not None, text
    return int(float(found.group(1)))


def test_a_model_created_on_another_process_is_served_at_once(
    pair: tuple[RelaygateServer, RelaygateServer], upstream: FakeUpstream
) -> None:
    first, second = pair
    name = f"fresh-{uuid.uuid4().hex[:8]}"
    key = second.cli("init", "--workspace", name).stdout.strip()
    on_second = Workspace(name, key, second)
    router_id = on_second.add_model(upstream, "gpt-test", provider=f"p{uuid.uuid4().hex[:6]}")["router_id"]
    before = model_lookups(first)

    reply = first.client(key).chat.completions.create(
        model=router_id, messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices[0].message.content
    assert first.api("GET", f"/v3/router/models/{router_id}", key=key).json()["id"] == router_id
    listed = first.api("GET", "/v3/router/models", key=key).json()["data"]
    assert [model["id"] for model in listed] == [router_id]
    assert model_lookups(first) - before == 1  # then it is in the catalog

    # The Responses API and GET /models/{id} look a fresh model up too.
    other = on_second.add_model(upstream, "gpt-test", provider=f"p{uuid.uuid4().hex[:6]}")["router_id"]
    answer = first.client(key).responses.create(model=other, input="hello")
    assert answer.output_text
    third = on_second.add_model(upstream, "gpt-test", provider=f"p{uuid.uuid4().hex[:6]}")["router_id"]
    assert first.api("GET", f"/v3/router/models/{third}", key=key).status_code == 200


def test_an_unknown_model_costs_one_lookup(pair: tuple[RelaygateServer, RelaygateServer]) -> None:
    first, _ = pair
    key = first.admin_key
    before = model_lookups(first)
    for _ in range(20):
        response = first.api(
            "POST",
            "/v3/router/chat/completions",
            key=key,
            json={"model": "nobody/none", "messages": [{"role": "user", "content": "hello"}]},
        )
        error = assert_openai_error(response, 404, "invalid_request_error")["error"]
        assert error["code"] == "model_not_found"
    assert model_lookups(first) - before == 1
