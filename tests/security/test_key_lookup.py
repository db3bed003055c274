"""A key made while the server runs works at once; wrong keys cost the store next to nothing.

The server here polls the store only every 10 minutes and has no Redis, so a key made by
the CLI can only be known at once through the store lookup of a key the catalog does not
know.
Its auth brake allows 3 failures per address; the tests speak for clients at addresses of
their own through ``X-Forwarded-For`` (the test client is the trusted proxy 127.0.0.1).
"""

from __future__ import annotations

import itertools
import re
import secrets
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from support.server import RelaygateServer, make_server
from tests_shared import assert_openai_error

_client_numbers = itertools.count()


def new_address() -> str:
    """A client address no other call of this module used."""
    number = next(_client_numbers)
    return f"198.51.{number // 250}.{number % 250 + 1}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    started = make_server(
        tmp_path_factory.mktemp("key-lookup"),
        RELAYGATE_CATALOG_POLL_INTERVAL="600",
        RELAYGATE_REDIS_URL="",
        RELAYGATE_AUTH_FAILURE_LIMIT="3",
        RELAYGATE_CATALOG_MISS_TTL="300",  # however slow the machine, a repeated miss is remembered
    ).start(timeout=120.0)
    try:
        yield started
    finally:
        started.stop()


def from_address(key: str) -> dict[str, str]:
    """Headers of a call with ``key`` from a client address of its own."""
    return {"authorization": f"Bearer {key}", "x-forwarded-for": new_address()}


def key_lookups(server: RelaygateServer) -> int:
    text = server.api("GET", "/metrics", key=server.admin_key).text
    found = re.search(r"^relaygate_auth_store_lookups_total ([0-9.e+]+)$", text, re.MULTILINE)
    assert found is not None, text
    return int(float(found.group(1)))


def wrong_key() -> str:
    return "rg-" + secrets.token_urlsafe(32)


def test_a_key_made_by_the_cli_works_at_once_on_both_planes(server: RelaygateServer) -> None:
    before = key_lookups(server)
    name = f"fresh-{uuid.uuid4().hex[:8]}"
    admin_key = server.cli("init", "--workspace", name).stdout.strip()
    assert server.api("GET", "/v3/router/models", key=admin_key).status_code == 200
    assert server.api("GET", "/v2/models", key=admin_key).status_code == 200
    router_key = server.cli("keys", "create", "--workspace", name, "--role", "router").stdout.strip()
    other_admin = server.cli("keys", "create", "--workspace", name, "--role", "admin").stdout.strip()
    assert server.api("GET", "/v2/api-keys", key=other_admin).status_code == 200
    assert server.api("GET", "/v3/router/models", key=router_key).status_code == 200
    # A router key is still only a router key, however it became known.
    assert_openai_error(server.api("GET", "/v2/models", key=router_key), 403, "permission_error")
    assert key_lookups(server) - before == 3  # one per new key; every later call was a dict lookup


def test_a_revoked_key_is_refused_at_once(server: RelaygateServer) -> None:
    name = f"revoked-{uuid.uuid4().hex[:8]}"
    admin_key = server.cli("init", "--workspace", name).stdout.strip()
    created = server.api("POST", "/v2/api-keys", key=admin_key, json={"role": "router", "name": "gone"})
    assert created.status_code == 200, created.text
    gone = created.json()
    assert server.api("DELETE", f"/v2/api-keys/{gone['id']}", key=admin_key).status_code == 200
    response = server.api("GET", "/v3/router/models", key=gone["key"])
    assert_openai_error(response, 401, "authentication_error")


def test_a_flood_of_wrong_keys_costs_one_lookup_per_distinct_key(server: RelaygateServer) -> None:
    """From many addresses at once, so the auth brake does not stop it: the lookups are bounded."""
    before = key_lookups(server)
    url = f"{server.url}/v3/router/models"
    with httpx.Client(timeout=30) as client:

        def call(key: str) -> int:
            return client.get(url, headers=from_address(key)).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(call, [wrong_key() for _ in range(200)]))
        assert statuses == [401] * 200
        flood = key_lookups(server) - before
        assert 0 < flood <= 200

        repeated = wrong_key()
        for _ in range(100):
            assert_openai_error(client.get(url, headers=from_address(repeated)), 401, "authentication_error")
    assert key_lookups(server) - before - flood == 1


def test_a_braked_client_causes_no_lookup(server: RelaygateServer) -> None:
    before = key_lookups(server)
    address = new_address()
    statuses = [
        server.api(
            "GET", "/v3/router/models", key=wrong_key(), headers={"x-forwarded-for": address}
        ).status_code
        for _ in range(50)
    ]
    assert statuses == [401] * 3 + [429] * 47
    assert key_lookups(server) - before == 3
