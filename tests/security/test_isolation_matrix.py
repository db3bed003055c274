"""Workspace isolation, for every endpoint: the matrix is built from the route tables
(the OpenAPI document for /v2, ``router/endpoints.py`` for /v3/router), so an endpoint
added later is covered without touching this file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from relaygate.router.endpoints import ENDPOINTS

from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream

PARAM = re.compile(r"{([^}]+)}")
KNOWN_GOOD = {"display_name": "pwned", "model_type": "chat", "region": "us", "name": "pwned", "amount_usd": 1}
# A query parameter gets a victim's id, unless its type takes no id (?force=true on a DELETE).
QUERY_VALUES = {"boolean": "true", "integer": "1"}


@dataclass
class Victim:
    workspace: Workspace
    model: dict[str, Any]
    key: dict[str, Any]
    budget_id: str | None
    deployment: dict[str, Any]

    def ids(self) -> dict[str, str]:
        # A path parameter takes the ids whose kind starts its name: {key_or_id} a deployment's.
        found = {"model": self.model["id"], "key": self.key["id"], "key_or_id": self.deployment["key"]}
        if self.budget_id:
            found["budget"] = self.budget_id
        return found

    def secrets(self) -> list[str]:
        names = [self.model["router_id"], self.model["display_name"], self.key["id"], self.key["name"]]
        return [*names, self.deployment["id"], *self.ids().values()]


@pytest.fixture(scope="module")
def victim(relaygate: RelaygateServer, upstream: FakeUpstream) -> Victim:
    b = relaygate.new_workspace("victim")
    model = b.add_model(upstream, "gpt-test", provider="victim", display_name="Victim-Secret-Model")
    key = b.api("POST", "/v2/api-keys", json={"role": "router", "name": "victim-secret-key"}).json()
    budget = b.api("POST", "/v2/budgets", json={"amount_usd": 5})
    deployment = b.api(
        "POST",
        "/v2/deployments",
        json={"key": "victim-secret-deployment", "model": model["router_id"], "messages": []},
    ).json()
    return Victim(b, model, key, budget.json().get("id") if budget.status_code == 200 else None, deployment)


def _operations(server: RelaygateServer) -> list[tuple[str, str, dict[str, Any]]]:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        if path.startswith("/v2/")
        for method, op in ops.items()
    ]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return dict(spec["components"]["schemas"][name])
    return schema


def _body(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = _resolve(spec, content["schema"])
    properties = schema.get("properties", {})
    return {name: value for name, value in KNOWN_GOOD.items() if name in properties}


def _fill(path: str, victim_ids: dict[str, str]) -> list[str]:
    names = PARAM.findall(path)
    if not names:
        return [path]
    filled: list[str] = []
    for name in names:
        matches = [value for kind, value in victim_ids.items() if name.startswith(kind)] or list(
            victim_ids.values()
        )
        filled.extend(path.replace("{" + name + "}", value) for value in matches)
    return filled


def test_v2_matrix(relaygate: RelaygateServer, victim: Victim) -> None:
    a = relaygate.new_workspace("attacker")
    a_router = a.new_key("router")
    spec = httpx.get(f"{relaygate.url}/openapi.json").json()
    checked = 0
    for method, template, op in _operations(relaygate):
        body = _body(spec, op)
        query = {
            param["name"]: QUERY_VALUES.get(param["schema"].get("type"), victim.model["id"])
            for param in op.get("parameters", [])
            if param["in"] == "query"
        }
        for path in _fill(template, victim.ids()):
            kwargs: dict[str, Any] = {"json": body} if body is not None else {}
            for key in (a.admin_key, a_router):
                response = a.api(method, path, key=key, params=query, **kwargs)
                where = f"{method} {path} with A's {'admin' if key == a.admin_key else 'router'} key"
                if "{" in template:
                    expected = (404,) if key == a.admin_key else (403, 404)
                    if body is not None and response.status_code == 400:
                        expected = (400,)  # refused before any lookup: says nothing about B
                    assert response.status_code in expected, (
                        f"{where}: {response.status_code} {response.text}"
                    )
                assert response.status_code != 500, where
                asked = path + " ".join(query.values())
                for secret in victim.secrets():  # an id A sent may be quoted back, nothing else
                    assert secret in asked or secret not in response.text, f"{where} revealed {secret}"
                checked += 1
    assert checked >= 20
    _victim_unharmed(victim)


def test_router_matrix(relaygate: RelaygateServer, victim: Victim) -> None:
    a = relaygate.new_workspace("attacker")
    router_id = victim.model["router_id"]
    for key in (a.admin_key, a.new_key("router")):
        for path, endpoint in ENDPOINTS.items():
            url = f"{relaygate.url}/v3/router{path}"
            headers = {"authorization": f"Bearer {key}"}
            if endpoint.kind == "upload":
                response = httpx.post(
                    url, headers=headers, data={"model": router_id}, files={"file": ("a.wav", b"x")}
                )
            else:
                body = {
                    "model": router_id,
                    "messages": [{"role": "user", "content": "x"}],
                    "input": "x",
                    "prompt": "x",
                }
                response = httpx.post(url, headers=headers, json=body)
            assert response.status_code == 404, f"{path}: {response.status_code} {response.text}"
            assert response.json()["error"]["code"] == "model_not_found"
        listing = a.api("GET", "/v3/router/models", key=key).text
        assert router_id not in listing
        assert a.api("GET", f"/v3/router/models/{router_id}", key=key).status_code == 404
    _victim_unharmed(victim)


def _victim_unharmed(victim: Victim) -> None:
    b = victim.workspace
    model = b.api("GET", f"/v2/models/{victim.model['id']}").json()
    assert model["display_name"] == "Victim-Secret-Model"
    assert b.api("GET", f"/v2/deployments/{victim.deployment['key']}").json() == victim.deployment
    assert [m.id for m in b.client(victim.key["key"]).models.list()] == [victim.model["router_id"]]
