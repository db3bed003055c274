"""Two relaygate processes, one PostgreSQL, one Redis: one set of workspaces.

The consistency rules of the scale-out issue, checked from the outside: what is written
through process A is routed accordingly by process B within one second; shared state
(cache, limits) is shared; losing Redis or PostgreSQL degrades but does not stop routing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import openai
import pytest
from sqlalchemy.engine import make_url

from support.cluster import Cluster, each_within, running_cluster, within
from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream, Fault

MESSAGES: list[Any] = [{"role": "user", "content": "hello"}]
PROPAGATION_S = 1.0


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A pair that polls the store only every 30 s: changes can only arrive through Redis pub/sub."""
    with running_cluster(tmp_path_factory.mktemp("pushed"), RELAYGATE_CATALOG_POLL_INTERVAL="30") as cluster:
        yield cluster


@pytest.fixture
def polled(tmp_path: Path) -> Iterator[Cluster]:
    """A pair with the default poll interval, for the outage tests (polling is the fallback)."""
    with running_cluster(tmp_path, RELAYGATE_CATALOG_POLL_INTERVAL="0.5") as cluster:
        yield cluster


def status(server: RelaygateServer, key: str, model: str, **kwargs: Any) -> int:
    try:
        server.client(key).chat.completions.create(model=model, messages=MESSAGES, **kwargs)
    except openai.APIStatusError as exc:
        return exc.status_code
    return 200


def shared_workspace(cluster: Cluster) -> Workspace:
    """A workspace made on A (through the CLI) and usable on B."""
    workspace = cluster.a.new_workspace()
    cluster.b.wait_for_key(workspace.admin_key, timeout=PROPAGATION_S)
    return workspace


def patch(workspace: Workspace, model: dict[str, Any], **changes: Any) -> None:
    body = {"display_name": model["display_name"], "model_type": "chat", "region": "us", **changes}
    response = workspace.api("PATCH", f"/v2/models/openai-like/{model['id']}", json=body)
    assert response.status_code == 200, response.text


def health(server: RelaygateServer) -> dict[str, Any]:
    return dict(server.api("GET", "/health").json())


# -- consistency ---------------------------------------------------------------------------


def test_model_created_changed_disabled_deleted_on_a_is_routed_so_by_b(
    pushed: Cluster, fake_upstream: FakeUpstream
) -> None:
    workspace = shared_workspace(pushed)
    key, b = workspace.admin_key, pushed.b
    assert status(b, key, "fake/gpt-test") == 404

    model = workspace.add_model(fake_upstream, "gpt-test")
    within(PROPAGATION_S, lambda: status(b, key, "fake/gpt-test") == 200)

    patch(workspace, model, max_tokens=77)

    def uses_new_default() -> bool:
        return status(b, key, "fake/gpt-test") == 200 and fake_upstream.last_request.json["max_tokens"] == 77

    within(PROPAGATION_S, uses_new_default)

    patch(workspace, model, enabled=False)  # a disabled model says so: 403 model_disabled
    within(PROPAGATION_S, lambda: status(b, key, "fake/gpt-test") == 403)
    patch(workspace, model, enabled=True)
    within(PROPAGATION_S, lambda: status(b, key, "fake/gpt-test") == 200)

    assert workspace.api("DELETE", f"/v2/models/{model['id']}").status_code == 200
    within(PROPAGATION_S, lambda: status(b, key, "fake/gpt-test") == 404)
    assert health(b)["redis"]["catalog"]["push"] == "live"


def test_key_revoked_on_a_is_refused_by_b_within_one_second(
    pushed: Cluster, fake_upstream: FakeUpstream
) -> None:
    workspace = shared_workspace(pushed)
    workspace.add_model(fake_upstream, "gpt-test")
    created = workspace.api("POST", "/v2/api-keys", json={"role": "router", "name": "doomed"}).json()
    within(PROPAGATION_S, lambda: status(pushed.b, created["key"], "fake/gpt-test") == 200)

    assert workspace.api("DELETE", f"/v2/api-keys/{created['id']}").status_code == 200
    within(PROPAGATION_S, lambda: status(pushed.b, created["key"], "fake/gpt-test") == 401)


def test_key_revoked_with_the_cli_is_refused_by_both_within_one_second(
    pushed: Cluster, fake_upstream: FakeUpstream
) -> None:
    workspace = shared_workspace(pushed)
    workspace.add_model(fake_upstream, "gpt-test")
    created = workspace.api("POST", "/v2/api-keys", json={"role": "router", "name": "doomed"}).json()
    within(PROPAGATION_S, lambda: status(pushed.b, created["key"], "fake/gpt-test") == 200)

    pushed.a.cli("keys", "revoke", "--workspace", workspace.name, created["id"])
    revoked = created["key"]
    each_within(PROPAGATION_S, pushed.servers, lambda server: status(server, revoked, "fake/gpt-test") == 401)


def test_a_write_is_routed_by_b_by_the_time_a_answers(pushed: Cluster, fake_upstream: FakeUpstream) -> None:
    """A waits for the other processes' acknowledgements: create-then-use through a load
    balancer does not depend on which process gets the next call."""
    workspace = shared_workspace(pushed)
    for number in range(3):
        model = workspace.add_model(fake_upstream, "gpt-test", provider=f"fake{number}")
        assert status(pushed.b, workspace.admin_key, model["router_id"]) == 200
        created = key_with(workspace, role="router")
        assert status(pushed.b, created["key"], model["router_id"]) == 200
        assert workspace.api("DELETE", f"/v2/api-keys/{created['id']}").status_code == 200
        assert status(pushed.b, created["key"], model["router_id"]) == 401


def test_a_deployment_written_on_a_is_in_bs_catalog_by_the_time_a_answers(
    pushed: Cluster, fake_upstream: FakeUpstream
) -> None:
    workspace = shared_workspace(pushed)
    workspace.add_model(fake_upstream, "gpt-test")
    deployments = health(pushed.b)["catalog"]["deployments"]
    writes = [
        ("POST", "/v2/deployments", {"key": "spread", "model": "fake/gpt-test", "messages": MESSAGES}, 1),
        ("PATCH", "/v2/deployments/spread", {"description": "second version"}, 1),
        ("DELETE", "/v2/deployments/spread", None, 0),
    ]
    for method, path, body, present in writes:
        assert workspace.api(method, path, json=body).status_code == 200
        a, b = health(pushed.a)["catalog"], health(pushed.b)["catalog"]
        assert b["version"] >= a["version"]
        assert b["deployments"] == deployments + present


def test_exact_match_cache_is_shared(pushed: Cluster, fake_upstream: FakeUpstream) -> None:
    workspace = shared_workspace(pushed)
    workspace.add_model(fake_upstream, "gpt-test")
    body = {"cache": {"type": "exact_match", "ttl": 60}, "seed": 7}

    def call(server: RelaygateServer) -> Mapping[str, str]:
        raw = server.client(workspace.admin_key).chat.completions.with_raw_response.create(
            model="fake/gpt-test", messages=MESSAGES, extra_body=body
        )
        return raw.headers

    first = call(pushed.a)
    calls = len(fake_upstream.requests_to("/chat/completions"))
    assert first["x-relaygate-cache"] == "miss"
    assert call(pushed.b)["x-relaygate-cache"] == "hit"
    assert len(fake_upstream.requests_to("/chat/completions")) == calls


def key_with(workspace: Workspace, **fields: Any) -> dict[str, Any]:
    response = workspace.api("POST", "/v2/api-keys", json={"name": "limited", **fields})
    assert response.status_code == 200, response.text
    return dict(response.json())


def spread(cluster: Cluster, key: str, model: str, calls: int, **kwargs: Any) -> list[int]:
    """``calls`` concurrent calls, alternating between A and B; their statuses."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda n: status(cluster.servers[n % 2], key, model, **kwargs), range(calls)))


def test_a_rate_limit_is_enforced_once_across_processes(pushed: Cluster, upstream: FakeUpstream) -> None:
    limit, batch = 40, 40 // 20  # docs/limits.md: a process may hold limit/20 unsynced units
    workspace = shared_workspace(pushed)
    workspace.add_model(upstream, "gpt-test")
    key = key_with(workspace, limits={"requests_per_minute": limit})["key"]
    within(PROPAGATION_S, lambda: pushed.b.api("GET", "/v3/router/models", key=key).status_code == 200)

    started = time.monotonic()
    statuses = spread(pushed, key, "fake/gpt-test", 3 * limit)
    refill = (time.monotonic() - started) * limit / 60
    assert set(statuses) <= {200, 429}
    admitted = statuses.count(200)
    assert limit <= admitted <= limit + 2 * batch + refill + 1, "two processes, one limit"


def test_a_budget_is_enforced_once_across_processes(pushed: Cluster, fake_upstream: FakeUpstream) -> None:
    workspace = shared_workspace(pushed)
    workspace.add_model(fake_upstream, "gpt-test", input_cost="1", output_cost="2")
    raw = workspace.client().chat.completions.with_raw_response.create(
        model="fake/gpt-test", messages=MESSAGES, max_tokens=10
    )
    request_id = raw.headers["x-request-id"]
    within(5.0, lambda: bool(_query(pushed.database_url, _COST_OF_REQUEST, request_id)))
    one_call = _query(pushed.database_url, _COST_OF_REQUEST, request_id)[0]
    # A call reserves its bound (each body byte a prompt token at 1,000 nano-USD, 10 completion
    # tokens at 2,000) and settles at its real cost: room for two reservations, far less than
    # 40 real calls, so one shared ledger must refuse some and two separate ones would overspend.
    body_size = len(fake_upstream.last_request.body)
    reservation = body_size * 1000 + 10 * 2000
    budget_nano = 2 * reservation
    assert 40 * one_call > budget_nano
    key = key_with(workspace, budget={"amount_usd": f"{budget_nano / 1e9:.9f}", "period": "total"})
    within(PROPAGATION_S, lambda: pushed.b.api("GET", "/v3/router/models", key=key["key"]).status_code == 200)

    statuses = spread(pushed, key["key"], "fake/gpt-test", 40, max_tokens=10)
    assert set(statuses) <= {200, 429}
    assert len(fake_upstream.last_request.body) == body_size, "the same call, the same reservation"
    # One exact ledger admits a call while what is spent and reserved leaves room for its
    # reservation: the first two always fit, and at most this many in all (the calls that
    # settled before it at their real cost, then the last one's full reservation).
    most = (budget_nano - reservation) // one_call + 1
    assert 2 <= statuses.count(200) <= most < 20
    each_within(5.0, pushed.servers, lambda server: health(server)["usage_queue"]["depth"] == 0)
    spent = sum(_query(pushed.database_url, _COST_OF_KEY, key["id"]))
    assert 0 < spent <= budget_nano, "two processes, one budget: never overspent"


# -- outages --------------------------------------------------------------------------------


def test_redis_down_routing_goes_on_and_redis_is_picked_up_again(
    polled: Cluster, fake_upstream: FakeUpstream
) -> None:
    workspace = shared_workspace(polled)
    key = workspace.admin_key
    first = workspace.add_model(fake_upstream, "gpt-test")

    polled.redis.cut()
    for server in polled.servers:
        each_within(3.0, [server], lambda server: health(server)["redis"]["state"] == "down")
        assert status(server, key, "fake/gpt-test") == 200
        ready = server.api("GET", "/health/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["redis"].startswith("down")
    # Catalog changes still reach B, by polling the store.
    patch(workspace, first, enabled=False)
    within(PROPAGATION_S, lambda: status(polled.b, key, "fake/gpt-test") == 403)

    polled.redis.restore()
    for server in polled.servers:
        each_within(5.0, [server], lambda server: health(server)["redis"]["catalog"]["push"] == "live")
        assert health(server)["redis"]["state"] == "up"
        assert server.log().count("Redis is unreachable") == 1, "the outage is logged once"
    patch(workspace, first, enabled=True)
    within(PROPAGATION_S, lambda: status(polled.b, key, "fake/gpt-test") == 200)


_COST_OF_REQUEST = "SELECT cost_nano FROM usage_events WHERE request_id = $1"
_COST_OF_KEY = "SELECT cost_nano FROM usage_events WHERE api_key_id = $1 AND status = 200"
_REQUEST_IDS = "SELECT request_id FROM usage_events"


def _query(database_url: str, sql: str, *args: Any) -> list[Any]:
    """The first column of ``sql``'s rows, straight from PostgreSQL (not through the proxy)."""

    async def fetch() -> list[Any]:
        url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(url)
        try:
            return [row[0] for row in await connection.fetch(sql, *args)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def test_postgres_down_routing_goes_on_usage_waits_and_writes_fail_with_503(
    polled: Cluster, fake_upstream: FakeUpstream
) -> None:
    workspace = shared_workspace(polled)
    key = workspace.new_key("router")
    workspace.add_model(fake_upstream, "gpt-test")
    within(PROPAGATION_S, lambda: status(polled.b, key, "fake/gpt-test") == 200)

    polled.postgres.cut()
    request_ids = []
    for server in polled.servers:
        for _ in range(3):
            raw = server.client(key).chat.completions.with_raw_response.create(
                model="fake/gpt-test", messages=MESSAGES
            )
            request_ids.append(raw.headers["x-request-id"])
        each_within(3.0, [server], lambda server: health(server)["usage_queue"]["depth"] >= 3)
        ready = server.api("GET", "/health/ready")
        assert ready.status_code == 200, "a store outage hits every process alike: stay in rotation"
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["store"].startswith("unavailable")

    refused = workspace.api("POST", "/v2/api-keys", json={"role": "router", "name": "later"})
    assert refused.status_code == 503
    error = refused.json()["error"]
    assert error["code"] == "store_unavailable"
    assert "unreachable" in error["message"]
    assert polled.b.api("GET", "/v2/models", key=workspace.admin_key).status_code == 503

    polled.postgres.restore()
    each_within(10.0, polled.servers, lambda server: health(server)["usage_queue"]["depth"] == 0)
    assert set(request_ids) <= set(_query(polled.database_url, _REQUEST_IDS)), "every queued event was stored"
    assert workspace.api("POST", "/v2/api-keys", json={"role": "router"}).status_code == 200
    each_within(2.0, polled.servers, lambda server: health(server)["store"] == "ok")


# -- circuit breakers ------------------------------------------------------------------


def _breaker_on(server: RelaygateServer, workspace: Workspace, model: dict[str, Any]) -> dict[str, Any]:
    response = server.api("GET", f"/v2/models/{model['id']}", key=workspace.admin_key)
    assert response.status_code == 200, response.text
    return dict(response.json()["metadata"]["circuit_breaker"])


def test_a_breaker_opened_on_a_is_open_on_b_and_closed_on_both_by_a_probe(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    env = {"RELAYGATE_BREAKER_FAILURES": "2", "RELAYGATE_BREAKER_COOLDOWN": "2"}
    with running_cluster(tmp_path, **env) as cluster:
        workspace = shared_workspace(cluster)
        model = workspace.add_model(fake_upstream, "gpt-test")
        assert status(cluster.b, workspace.admin_key, model["router_id"]) == 200
        fake_upstream.script("/chat/completions", [Fault(status=503), Fault(status=503)])
        assert [status(cluster.a, workspace.admin_key, model["router_id"]) for _ in range(2)] == [503, 503]
        within(PROPAGATION_S, lambda: _breaker_on(cluster.b, workspace, model)["state"] == "open")
        calls = len(fake_upstream.requests)
        with pytest.raises(openai.APIStatusError) as caught:
            cluster.b.client(workspace.admin_key).chat.completions.create(
                model=model["router_id"], messages=MESSAGES
            )
        assert caught.value.response.json()["error"]["code"] == "circuit_open"
        assert len(fake_upstream.requests) == calls  # B never tried the upstream A saw failing

        time.sleep(2.1)  # the cool-down: A's next call is the probe, and it succeeds
        assert status(cluster.a, workspace.admin_key, model["router_id"]) == 200
        within(PROPAGATION_S, lambda: _breaker_on(cluster.b, workspace, model)["state"] == "closed")
        assert status(cluster.b, workspace.admin_key, model["router_id"]) == 200
