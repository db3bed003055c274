"""Workspace A can neither see nor use workspace B's models and keys."""

from __future__ import annotations

import openai
import pytest

from support.server import RelaygateServer
from upstream import FakeUpstream


def test_workspaces_are_isolated(relaygate: RelaygateServer, upstream: FakeUpstream) -> None:
    a, b = relaygate.new_workspace("a"), relaygate.new_workspace("b")
    b_model = b.add_model(upstream, "gpt-test", provider="secret")
    b_key = b.api("POST", "/v2/api-keys", json={"name": "b-svc"}).json()
    a_router_key = a.new_key("router")

    assert a.api("GET", "/v2/models").json()["data"] == []
    for path in (f"/v2/models/{b_model['id']}", f"/v2/models/{b_model['id']}/validate"):
        method = "POST" if path.endswith("validate") else "GET"
        assert a.api(method, path).status_code == 404
    patch = {"display_name": "pwned", "model_type": "chat", "region": "us"}
    assert a.api("PATCH", f"/v2/models/openai-like/{b_model['id']}", json=patch).status_code == 404
    assert a.api("DELETE", f"/v2/models/{b_model['id']}").status_code == 404
    assert a.api("DELETE", f"/v2/api-keys/{b_key['id']}").status_code == 404
    assert b_key["id"] not in a.api("GET", "/v2/api-keys").text

    for key in (a.admin_key, a_router_key):
        client = a.client(key)
        assert [m.id for m in client.models.list()] == []
        assert a.api("GET", "/v3/router/models/secret/gpt-test", key=key).status_code == 404
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(
                model="secret/gpt-test", messages=[{"role": "user", "content": "x"}]
            )

    # B's own keys still work, and B's model survived A's attempts.
    assert b.api("GET", f"/v2/models/{b_model['id']}").json()["display_name"] == b_model["display_name"]
    assert [m.id for m in b.client(b_key["key"]).models.list()] == ["secret/gpt-test"]


def test_same_router_id_in_two_workspaces(relaygate: RelaygateServer, upstream: FakeUpstream) -> None:
    a, b = relaygate.new_workspace("a"), relaygate.new_workspace("b")
    a.add_model(upstream, "gpt-test", provider="same", display_name="A's")
    b.add_model(upstream, "gpt-test", provider="same", display_name="B's")
    assert a.api("GET", "/v2/models").json()["data"][0]["display_name"] == "A's"
    assert b.api("GET", "/v2/models").json()["data"][0]["display_name"] == "B's"
