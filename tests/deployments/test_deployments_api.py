"""/v2/deployments against a real relaygate: create, change, roll back, list, delete, the
400s that name their field, isolation between workspaces, keys' rights, and the model
deletion guard."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from support.server import RelaygateServer, Workspace
from tests_shared import assert_openai_error
from upstream import FakeUpstream

ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CHAT_A, CHAT_B, CHAT_C, EMBEDDER = "fake/gpt-test", "spare/gpt-test", "other/gpt-test", "fake/embed-test"


@pytest.fixture(scope="module")
def team(relaygate: RelaygateServer, upstream: FakeUpstream) -> Workspace:
    """One workspace for the module with two chat models and an embedding model."""
    workspace = relaygate.new_workspace()
    workspace.add_model(upstream, "gpt-test")
    workspace.add_model(upstream, "gpt-test", provider="spare")
    workspace.add_model(upstream, "embed-test", model_type="embedding")
    return workspace


def unique_key(prefix: str = "support") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def body(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "model": CHAT_A,
        "messages": [
            {"role": "system", "content": "You answer questions about {{product}}."},
            {"role": "user", "content": [{"type": "text", "text": "{{ question }}"}]},
        ],
        **fields,
    }


def create(workspace: Workspace, key: str | None = None, **fields: Any) -> dict[str, Any]:
    response = workspace.api("POST", "/v2/deployments", json=body(key or unique_key(), **fields))
    assert response.status_code == 200, response.text
    return dict(response.json())


def sdk_error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    """relaygate's error shape, plus the top-level message the hosted product's SDKs read."""
    error = assert_openai_error(response, status, error_type)
    assert error["message"] == error["error"]["message"]
    return error


# -- create, get ---------------------------------------------------------------------------


def test_create_answers_version_1_with_everything_stored(team: Workspace) -> None:
    key = unique_key()
    created = create(
        team,
        key,
        parameters={"temperature": 0.2, "max_tokens": 300},
        variants=[{"context": {"environments": "staging"}, "model": CHAT_B}],
        fallbacks=[{"model": CHAT_B}],
        retry={"count": 2, "on_codes": [429, 503]},
        timeout={"call_timeout": 20000},
        cache={"type": "exact", "ttl": 60},
    )
    assert ULID.match(created["id"])
    assert created["object"] == "deployment"
    assert created["key"] == key
    assert created["version"] == 1
    assert created["display_name"] == key  # the default
    assert created["description"] == ""
    assert created["model"] == CHAT_A
    assert created["parameters"] == {"temperature": 0.2, "max_tokens": 300}
    assert created["variants"] == [
        {"name": "variant-1", "context": {"environments": "staging"}, "model": CHAT_B}
    ]
    assert created["fallbacks"] == [{"model": CHAT_B}]
    assert created["retry"] == {"count": 2, "on_codes": [429, 503]}
    assert created["timeout"] == {"call_timeout": 20000}
    assert created["cache"] == {"type": "exact_match", "ttl": 60}  # "exact" is the SDKs' spelling
    assert created["variables"] == ["product", "question"]
    assert TIMESTAMP.match(created["created_at"])
    assert created["updated_at"] == created["created_at"]

    by_key = team.api("GET", f"/v2/deployments/{key}")
    by_id = team.api("GET", f"/v2/deployments/{created['id']}")
    assert by_key.status_code == by_id.status_code == 200
    assert by_key.json() == by_id.json() == created


def test_absent_policy_is_null_and_no_fallbacks_an_empty_list(team: Workspace) -> None:
    created = create(team)
    assert (created["retry"], created["timeout"], created["cache"]) == (None, None, None)
    assert created["fallbacks"] == []
    assert created["variants"] == []


def test_a_duplicate_key_is_409_but_another_workspace_may_use_it(
    team: Workspace, relaygate: RelaygateServer, upstream: FakeUpstream
) -> None:
    key = unique_key()
    create(team, key)
    again = team.api("POST", "/v2/deployments", json=body(key))
    assert sdk_error(again, 409, "invalid_request_error")["error"]["code"] == "deployment_exists"
    assert team.api("POST", "/v2/deployments", json=body(key.upper())).status_code == 200  # case-sensitive

    other = relaygate.new_workspace()
    other.add_model(upstream, "gpt-test")
    assert other.api("POST", "/v2/deployments", json=body(key)).status_code == 200


@pytest.mark.parametrize("key", ["", "a/b", "-leading", "with space", "x" * 129, 42])
def test_a_key_outside_the_rules_is_400(team: Workspace, key: Any) -> None:
    response = team.api("POST", "/v2/deployments", json=body("unused") | {"key": key})
    assert sdk_error(response, 400, "invalid_request_error")["error"]["param"] == "key"


# -- validation ----------------------------------------------------------------------------

_VALID_VARIANT = {"context": {"locale": "en"}}
INVALID_FIELDS = [
    ({"model": "fake/missing"}, "model", "not an enabled model"),
    ({"model": EMBEDDER}, "model", "chat models only"),
    (
        {"variants": [_VALID_VARIANT, {"context": {"locale": "de"}, "model": EMBEDDER}]},
        "variants[1].model",
        "chat",
    ),
    ({"fallbacks": [{"model": CHAT_B}, {"model": "nope/x"}]}, "fallbacks[1].model", "not an enabled"),
    ({"fallbacks": [{"model": CHAT_B}] * 11}, "fallbacks", "at most 10"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "must be one of"),
    ({"messages": [{"role": "user"}]}, "messages[0].content", "string or a non-empty list"),
    (
        {"messages": [{"role": "user", "content": [{"type": "audio"}]}]},
        "messages[0].content[0].type",
        "one of",
    ),
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id", "string"),
    ({"messages": "hello"}, "messages", "must be a list"),
    ({"variants": [{"context": {}}]}, "variants[0].context", "at least one field"),
    (
        {"variants": [{"context": {"tier": {"a": 1}}}]},
        "variants[0].context.tier",
        "string, number or boolean",
    ),
    (
        {"variants": [{"name": "a", **_VALID_VARIANT}, {"name": "a", **_VALID_VARIANT}]},
        "variants[1].name",
        "two",
    ),
    ({"variants": [{"name": "default", **_VALID_VARIANT}]}, "variants[0].name", "'default'"),
    (
        {"variants": [{"context": {"a": 1}, "parameters": {"top_p": 3}}]},
        "variants[0].parameters.top_p",
        "0 to 1",
    ),
    ({"retry": {"count": 9}}, "retry.count", "from 1 to 5"),
    ({"retry": {"count": 2, "on_codes": [200]}}, "retry.on_codes[0]", "400-599"),
    ({"timeout": {"call_timeout": 0}}, "timeout.call_timeout", "above 0"),
    ({"cache": {"type": "semantic"}}, "cache.type", "exact_match"),
    ({"cache": {"type": "exact_match", "ttl": 10**9}}, "cache.ttl", "259200"),
    ({"parameters": {"temperature": 5}}, "parameters.temperature", "0 to 2"),
    ({"parameters": {"model": CHAT_B}}, "parameters.model", "top-level 'model'"),
    ({"parameters": {"fallbacks": []}}, "parameters.fallbacks", "routing policy"),
    (
        {"parameters": {"tools": [{"type": "function", "function": {"name": "a b"}}]}},
        "parameters.tools[0].function.name",
        "1-64",
    ),
    ({"colour": "blue"}, "colour", "unknown field"),
    ({"knowledge_bases": [{"knowledge_id": "k"}]}, "knowledge_bases", "relaygate has no knowledge bases"),
    ({"knowledge_filter": {}}, "knowledge_filter", "relaygate has no knowledge bases"),
]


@pytest.mark.parametrize(("fields", "param", "says"), INVALID_FIELDS)
def test_an_invalid_field_is_a_400_naming_it(
    team: Workspace, fields: dict[str, Any], param: str, says: str
) -> None:
    key = unique_key()
    response = team.api("POST", "/v2/deployments", json=body(key, **fields))
    error = sdk_error(response, 400, "invalid_request_error")["error"]
    assert error["param"] == param
    assert says in error["message"]
    assert param in error["message"]
    assert team.api("GET", f"/v2/deployments/{key}").status_code == 404  # nothing stored


def test_model_and_messages_are_required(team: Workspace) -> None:
    for missing in ("model", "messages"):
        fields = {name: value for name, value in body(unique_key()).items() if name != missing}
        response = team.api("POST", "/v2/deployments", json=fields)
        assert sdk_error(response, 400, "invalid_request_error")["error"]["param"] == missing


def test_a_disabled_model_cannot_be_deployed(relaygate: RelaygateServer, upstream: FakeUpstream) -> None:
    workspace = relaygate.new_workspace()
    workspace.add_model(upstream, "gpt-test", enabled=False)
    response = workspace.api("POST", "/v2/deployments", json=body(unique_key()))
    assert sdk_error(response, 400, "invalid_request_error")["error"]["param"] == "model"


def test_a_body_that_is_not_an_object_is_400(team: Workspace) -> None:
    response = team.api("POST", "/v2/deployments", json=["key", "model"])
    sdk_error(response, 400, "invalid_request_error")
    broken = team.api("POST", "/v2/deployments", content=b"{", headers={"content-type": "application/json"})
    assert sdk_error(broken, 400, "invalid_request_error")["error"]["code"] == "invalid_json"


# -- change, roll back, versions ---------------------------------------------------------


def test_patch_makes_a_new_version_with_the_given_fields_replaced(team: Workspace) -> None:
    created = create(team, parameters={"temperature": 0.2}, retry={"count": 2})
    key = created["key"]
    response = team.api("PATCH", f"/v2/deployments/{key}", json={"model": CHAT_B, "description": "v2"})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["version"] == 2
    assert changed["id"] == created["id"]
    assert (changed["model"], changed["description"]) == (CHAT_B, "v2")
    assert changed["messages"] == created["messages"]  # kept
    assert changed["parameters"] == {"temperature": 0.2}
    assert changed["retry"] == {"count": 2}
    assert changed["created_at"] == created["created_at"]
    assert changed["updated_at"] >= created["updated_at"]
    assert team.api("GET", f"/v2/deployments/{key}").json() == changed

    removed = team.api("PATCH", f"/v2/deployments/{key}", json={"retry": None}).json()
    assert removed["version"] == 3
    assert removed["retry"] is None


def test_patch_changing_nothing_makes_no_version(team: Workspace) -> None:
    created = create(team, description="same")
    key = created["key"]
    for same in ({}, {"description": "same", "model": CHAT_A}, {"key": key, "messages": created["messages"]}):
        response = team.api("PATCH", f"/v2/deployments/{key}", json=same)
        assert response.status_code == 200, response.text
        assert response.json() == created
    versions = team.api("GET", f"/v2/deployments/{key}/versions").json()["data"]
    assert len(versions) == 1


def test_patch_validates_like_create_and_keeps_the_key(team: Workspace) -> None:
    key = create(team)["key"]
    invalid = team.api(
        "PATCH", f"/v2/deployments/{key}", json={"variants": [{"context": {"a": 1}, "model": "x/y"}]}
    )
    assert sdk_error(invalid, 400, "invalid_request_error")["error"]["param"] == "variants[0].model"
    renamed = team.api("PATCH", f"/v2/deployments/{key}", json={"key": "another"})
    assert sdk_error(renamed, 400, "invalid_request_error")["error"]["code"] == "key_immutable"
    nulled = team.api("PATCH", f"/v2/deployments/{key}", json={"model": None})
    assert sdk_error(nulled, 400, "invalid_request_error")["error"]["param"] == "model"
    assert team.api("GET", f"/v2/deployments/{key}").json()["version"] == 1


def test_concurrent_changes_never_share_a_version_number(team: Workspace) -> None:
    key = create(team)["key"]

    def change(number: int) -> int:
        response = team.api("PATCH", f"/v2/deployments/{key}", json={"description": f"writer {number}"})
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(change, range(8)))
    # A change another one beat is applied again on top of it; 409 only after losing 5 times running.
    assert set(statuses) <= {200, 409}, statuses
    assert statuses.count(200) >= 5
    versions = team.api("GET", f"/v2/deployments/{key}/versions", params={"limit": 50}).json()["data"]
    assert [item["number"] for item in versions] == list(range(statuses.count(200) + 1, 0, -1))
    descriptions = {item["description"] for item in versions[:-1]}
    assert len(descriptions) == statuses.count(200)  # each accepted change is a version of its own


def test_rollback_copies_an_old_version_as_a_new_one(team: Workspace) -> None:
    first = create(team, parameters={"temperature": 0.1})
    key = first["key"]
    team.api("PATCH", f"/v2/deployments/{key}", json={"model": CHAT_B, "parameters": {"temperature": 0.9}})
    response = team.api("POST", f"/v2/deployments/{key}/rollback", json={"version": 1})
    assert response.status_code == 200, response.text
    rolled = response.json()
    assert rolled["version"] == 3
    assert (rolled["model"], rolled["parameters"]) == (CHAT_A, {"temperature": 0.1})

    versions = team.api("GET", f"/v2/deployments/{key}/versions").json()["data"]
    assert [(item["number"], item["note"]) for item in versions] == [
        (3, "rollback to version 1"), (2, None), (1, None),
    ]  # fmt: skip
    assert versions[0]["content"] == versions[2]["content"]
    assert versions[0]["notes"] == "rollback to version 1"
    assert "notes" not in versions[1]  # optional in the SDK shape: left out, never null


def test_rollback_to_the_current_or_an_unknown_version_is_refused(team: Workspace) -> None:
    key = create(team)["key"]
    current = team.api("POST", f"/v2/deployments/{key}/rollback", json={"version": 1})
    assert sdk_error(current, 400, "invalid_request_error")["error"]["code"] == "already_current"
    unknown = team.api("POST", f"/v2/deployments/{key}/rollback", json={"version": 7})
    assert sdk_error(unknown, 404, "invalid_request_error")["error"]["param"] == "version"
    wrong = team.api("POST", f"/v2/deployments/{key}/rollback", json={"version": "latest"})
    assert sdk_error(wrong, 400, "invalid_request_error")["error"]["param"] == "version"


def test_versions_are_listed_newest_first_in_the_sdk_shape(team: Workspace) -> None:
    created = create(
        team,
        parameters={
            "temperature": 0.3,
            "max_tokens": 50,
            "tools": [{"type": "function", "function": {"name": "f"}}],
        },
        variants=[
            {
                "name": "german",
                "context": {"locale": "de"},
                "messages": [{"role": "user", "content": "{{q}}"}],
            }
        ],
        fallbacks=[{"model": CHAT_B}],
    )
    key = created["key"]
    team.api("PATCH", f"/v2/deployments/{key}", json={"description": "second"})
    listed = team.api("GET", f"/v2/deployments/{created['id']}/versions")
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["object"] == "list"
    assert page["has_more"] is False
    newest, oldest = page["data"]
    assert (newest["version"], newest["status"], oldest["version"], oldest["status"]) == (
        "v2", "live", "v1", "published",
    )  # fmt: skip
    assert ULID.match(newest["_id"])
    assert newest["deployment_id"] == created["id"]
    assert newest["variant_id"] == "default"
    assert newest["description"] == "second"
    assert isinstance(newest["user_id"], str)
    assert TIMESTAMP.match(newest["timestamp"])
    config = newest["prompt_config"]
    assert config["model"] == CHAT_A
    assert config["model_type"] == "chat"
    assert config["provider"] == "openailike"  # "fake" is not in the SDKs' closed enum
    assert config["model_parameters"] == {"temperature": 0.3, "maxTokens": 50}
    assert config["messages"] == created["messages"]
    assert config["model_db_id"]
    assert newest["tools"] == [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    ]
    assert newest["variables"] == [{"key": "product"}, {"key": "question"}]
    assert [entry["model"] for entry in newest["fallbacks"]] == [CHAT_B]

    german = team.api("GET", f"/v2/deployments/{key}/versions", params={"variant_id": "german"}).json()[
        "data"
    ]
    assert [item["variant_id"] for item in german] == ["german", "german"]
    assert german[0]["variables"] == [{"key": "q"}]
    none = team.api("GET", f"/v2/deployments/{key}/versions", params={"variant_id": "french"}).json()
    assert none == {"object": "list", "data": [], "has_more": False}


def test_versions_page_by_their_ids(team: Workspace) -> None:
    key = create(team)["key"]
    for number in range(2, 6):
        team.api("PATCH", f"/v2/deployments/{key}", json={"description": f"v{number}"})
    path = f"/v2/deployments/{key}/versions"
    first = team.api("GET", path, params={"limit": 2}).json()
    assert [item["number"] for item in first["data"]] == [5, 4]
    assert first["has_more"] is True
    second = team.api("GET", path, params={"limit": 2, "starting_after": first["data"][-1]["_id"]}).json()
    assert [item["number"] for item in second["data"]] == [3, 2]
    last = team.api("GET", path, params={"limit": 2, "starting_after": second["data"][-1]["_id"]}).json()
    assert ([item["number"] for item in last["data"]], last["has_more"]) == ([1], False)
    back = team.api("GET", path, params={"limit": 2, "ending_before": second["data"][0]["_id"]}).json()
    assert ([item["number"] for item in back["data"]], back["has_more"]) == ([5, 4], False)
    bogus = team.api("GET", path, params={"starting_after": "01JJ1HDHN79XAS7A01WB3HYSDB"})
    assert sdk_error(bogus, 400, "invalid_request_error")["error"]["param"] == "starting_after"


# -- list, delete --------------------------------------------------------------------------


def test_the_list_pages_newest_first(relaygate: RelaygateServer, upstream: FakeUpstream) -> None:
    workspace = relaygate.new_workspace()
    workspace.add_model(upstream, "gpt-test")
    keys = [create(workspace, f"d{index}")["key"] for index in range(5)]
    first = workspace.api("GET", "/v2/deployments", params={"limit": 2}).json()
    assert [item["key"] for item in first["data"]] == ["d4", "d3"]
    assert first["has_more"] is True
    after = {"limit": 2, "starting_after": first["data"][-1]["id"]}
    second = workspace.api("GET", "/v2/deployments", params=after).json()
    assert [item["key"] for item in second["data"]] == ["d2", "d1"]
    before = {"limit": 2, "ending_before": second["data"][0]["id"]}
    previous = workspace.api("GET", "/v2/deployments", params=before).json()
    assert [item["key"] for item in previous["data"]] == ["d4", "d3"]
    everything = workspace.api("GET", "/v2/deployments").json()  # limit 10 by default
    assert [item["key"] for item in everything["data"]] == keys[::-1]
    assert everything["has_more"] is False

    both = workspace.api("GET", "/v2/deployments", params={"starting_after": "a", "ending_before": "b"})
    assert sdk_error(both, 400, "invalid_request_error")["error"]["param"] == "ending_before"
    for limit in (0, 51):
        response = workspace.api("GET", "/v2/deployments", params={"limit": limit})
        assert sdk_error(response, 400, "invalid_request_error")["error"]["param"] == "limit"


def test_list_items_have_the_sdk_fields_and_ours(team: Workspace) -> None:
    created = create(team, display_name="Support bot", parameters={"top_p": 0.5, "stop": ["x"]})
    (item,) = team.api("GET", "/v2/deployments", params={"limit": 1}).json()["data"]  # the newest
    assert item["id"] == created["id"]
    assert (item["created"], item["updated"]) == (created["created_at"], created["updated_at"])
    assert (item["version"], item["version_number"]) == ("v1", 1)
    assert item["description"] == ""
    assert item["display_name"] == "Support bot"
    assert item["model"] == CHAT_A
    assert item["variables"] == ["product", "question"]
    assert item["prompt_config"] == {
        "tools": [],
        "model": CHAT_A,
        "model_type": "chat",
        "model_parameters": {"topP": 0.5},
        "provider": "openailike",
        "messages": created["messages"],
    }


def test_delete_removes_the_deployment_and_its_versions(team: Workspace) -> None:
    created = create(team)
    key = created["key"]
    team.api("PATCH", f"/v2/deployments/{key}", json={"description": "v2"})
    response = team.api("DELETE", f"/v2/deployments/{key}")
    assert response.status_code == 200, response.text
    assert response.json() == {"id": created["id"], "key": key, "object": "deployment", "deleted": True}
    gone = team.api("GET", f"/v2/deployments/{key}")
    assert sdk_error(gone, 404, "invalid_request_error")["error"]["code"] == "deployment_not_found"
    assert team.api("GET", f"/v2/deployments/{key}/versions").status_code == 404
    assert team.api("DELETE", f"/v2/deployments/{key}").status_code == 404
    assert create(team, key)["version"] == 1  # the key is free again, with a fresh history


# -- isolation and rights ------------------------------------------------------------------


def test_another_workspace_gets_404_for_every_call(team: Workspace, relaygate: RelaygateServer) -> None:
    created = create(team)
    key, stranger = created["key"], relaygate.new_workspace()
    for name in (key, created["id"]):
        calls = [
            ("GET", f"/v2/deployments/{name}", None),
            ("GET", f"/v2/deployments/{name}/versions", None),
            ("PATCH", f"/v2/deployments/{name}", {"description": "mine now"}),
            ("POST", f"/v2/deployments/{name}/rollback", {"version": 1}),
            ("DELETE", f"/v2/deployments/{name}", None),
        ]
        for method, path, payload in calls:
            response = stranger.api(method, path, json=payload)
            sdk_error(response, 404, "invalid_request_error")
    assert stranger.api("GET", "/v2/deployments").json()["data"] == []
    assert team.api("GET", f"/v2/deployments/{key}").json() == created


def test_a_router_key_reads_but_does_not_write(team: Workspace) -> None:
    created = create(team)
    key, router_key = created["key"], team.new_key("router")
    assert team.api("GET", "/v2/deployments", key=router_key).status_code == 200
    assert team.api("GET", f"/v2/deployments/{key}", key=router_key).json() == created
    assert team.api("GET", f"/v2/deployments/{key}/versions", key=router_key).status_code == 200
    writes = [
        ("POST", "/v2/deployments", body(unique_key())),
        ("PATCH", f"/v2/deployments/{key}", {"description": "x"}),
        ("POST", f"/v2/deployments/{key}/rollback", {"version": 1}),
        ("DELETE", f"/v2/deployments/{key}", None),
    ]
    for method, path, payload in writes:
        sdk_error(team.api(method, path, key=router_key, json=payload), 403, "permission_error")
    assert team.api("GET", "/v2/models", key=router_key).status_code == 403  # other reads stay admin-only


def test_without_a_key_the_401_carries_a_top_level_message(relaygate: RelaygateServer) -> None:
    response = relaygate.api("GET", "/v2/deployments")
    sdk_error(response, 401, "authentication_error")
    elsewhere = relaygate.api("GET", "/v2/models").json()
    assert "message" not in elsewhere  # only the SDK paths get the extra key


# -- the model deletion guard --------------------------------------------------------------


def test_deleting_a_model_a_deployment_uses_is_409_unless_forced(
    relaygate: RelaygateServer, upstream: FakeUpstream
) -> None:
    workspace = relaygate.new_workspace()
    primary = workspace.add_model(upstream, "gpt-test")
    spare = workspace.add_model(upstream, "gpt-test", provider="spare")
    variant = workspace.add_model(upstream, "gpt-test", provider="other")
    create(workspace, "uses-fallback", fallbacks=[{"model": CHAT_B}])
    create(workspace, "uses-variant", variants=[{"context": {"a": 1}, "model": CHAT_C}])

    refused = workspace.api("DELETE", f"/v2/models/{spare['id']}")
    error = assert_openai_error(refused, 409, "invalid_request_error")
    assert error["error"]["code"] == "model_in_use"
    assert "'uses-fallback'" in error["error"]["message"]
    assert error["deployments"] == ["uses-fallback"]
    assert assert_openai_error(
        workspace.api("DELETE", f"/v2/models/{primary['id']}"), 409, "invalid_request_error"
    )["deployments"] == ["uses-fallback", "uses-variant"]

    workspace.api("PATCH", "/v2/deployments/uses-variant", json={"variants": []})
    assert workspace.api("DELETE", f"/v2/models/{variant['id']}").status_code == 200  # no longer used

    forced = workspace.api("DELETE", f"/v2/models/{spare['id']}", params={"force": "true"})
    assert forced.status_code == 200, forced.text
    # The deployment still names the deleted model; its lists describe it without a record.
    versions = workspace.api("GET", "/v2/deployments/uses-fallback/versions").json()["data"]
    assert versions[0]["fallbacks"][0]["model_db_id"] == ""
    # Changing it means choosing a model that exists.
    stale = workspace.api("PATCH", "/v2/deployments/uses-fallback", json={"description": "x"})
    assert assert_openai_error(stale, 400, "invalid_request_error")["error"]["param"] == "fallbacks[0].model"


# -- every process serves a change ----------------------------------------------------------


def catalog(server: RelaygateServer) -> dict[str, Any]:
    return dict(server.api("GET", "/health").json()["catalog"])


def test_a_write_moves_the_catalog_and_is_read_back_at_once(team: Workspace) -> None:
    before = catalog(team.server)["version"]
    created = create(team)
    after_create = catalog(team.server)
    assert after_create["version"] > before
    key = created["key"]
    team.api("PATCH", f"/v2/deployments/{key}", json={"model": CHAT_B})
    assert catalog(team.server)["version"] > after_create["version"]
    assert team.api("GET", f"/v2/deployments/{key}").json()["model"] == CHAT_B
