"""What a deployment call leaves in usage: the deployment, version and variant, its
documents and attribution; /v2/usage grouped and filtered by them. get_config and a mock
answer call no model and leave nothing. A real relaygate, its usage writer, real SQLite."""

from __future__ import annotations

from typing import Any

import pytest

from support.deployment_calls import INPUTS, create_deployment, orq, post
from support.server import Workspace
from support.usage_events import usage_event, usage_events
from upstream import FakeUpstream

MODEL = "fake/gpt-test"
VARIANTS = [{"name": "production", "context": {"environments": "production"}}]


@pytest.fixture
def team(workspace: Workspace, upstream: FakeUpstream) -> Workspace:
    workspace.add_model(upstream, "gpt-test")
    return workspace


def test_an_invoke_is_recorded_with_its_deployment_version_variant_documents_and_attribution(
    team: Workspace,
) -> None:
    key = create_deployment(team, MODEL, variants=VARIANTS)
    documents = [
        {
            "text": "Returns accepted within 30 days.",
            "metadata": {"file_name": "policy.pdf", "page_number": 2},
        }
    ]

    response = post(
        team,
        "invoke",
        {
            "key": key,
            "inputs": INPUTS,
            "context": {"environments": "production"},
            "documents": documents,
            "identity": {"id": "user-42", "email": "jane@example.com", "metadata": [{"plan": "pro"}]},
            "metadata": {"ticket": "T-1001"},
            "thread": {"id": "thread-7", "tags": ["support"]},
        },
    )
    event = usage_event(team, response.headers["x-request-id"])

    assert response.status_code == 200, response.text
    assert (event["deployment_key"], event["deployment_version"], event["variant"]) == (key, 1, "production")
    assert event["documents"] == documents
    assert (event["identity_id"], event["thread_id"], event["thread_tags"]) == (
        "user-42",
        "thread-7",
        ["support"],
    )
    assert event["metadata"] == {"ticket": "T-1001"}
    assert (event["endpoint"], event["router_model"], event["status"]) == ("deployments.invoke", MODEL, 200)
    assert event["prompt_tokens"] > 0
    assert not event["estimated"]


def test_a_stream_is_recorded_with_the_usage_its_upstream_reported(team: Workspace) -> None:
    key = create_deployment(team, MODEL)

    response = post(team, "stream", {"key": key, "inputs": INPUTS}, headers={"x-orq-contact-id": "contact-9"})
    event = usage_event(team, response.headers["x-request-id"])

    assert (event["endpoint"], event["stream"], event["deployment_key"]) == ("deployments.stream", True, key)
    assert event["completion_tokens"] > 0
    assert not event["estimated"]
    assert event["identity_id"] == "contact-9"


def test_a_new_version_is_recorded_as_such(team: Workspace) -> None:
    key = create_deployment(team, MODEL)
    changed = team.api("PATCH", f"/v2/deployments/{key}", json={"parameters": {"temperature": 0.1}})
    assert changed.status_code == 200, changed.text

    response = post(team, "invoke", {"key": key, "inputs": INPUTS})

    assert response.headers["x-relaygate-deployment-version"] == "2"
    assert usage_event(team, response.headers["x-request-id"])["deployment_version"] == 2


def test_documents_beyond_64_kib_of_json_are_cut_with_a_note(team: Workspace) -> None:
    key = create_deployment(team, MODEL)
    documents = [{"text": "x" * 20_000} for _ in range(5)]

    response = post(team, "invoke", {"key": key, "inputs": INPUTS, "documents": documents})
    kept = usage_event(team, response.headers["x-request-id"])["documents"]

    assert kept[:3] == documents[:3]
    assert kept[3] == {"note": "2 of 5 documents left out: over 65536 bytes"}


def test_get_config_and_a_mock_answer_leave_no_usage_event(team: Workspace) -> None:
    key = create_deployment(team, MODEL)
    client = orq(team)

    client.deployments.get_config(key=key, inputs=INPUTS)
    client.deployments.invoke(key=key, inputs=INPUTS, invoke_options={"mock_response": "Mocked."})
    list(client.deployments.stream(key=key, inputs=INPUTS, invoke_options={"mock_response": "Mocked."}))
    last = post(team, "invoke", {"key": key, "inputs": INPUTS})  # recorded after the others would be
    usage_event(team, last.headers["x-request-id"])

    assert [event["request_id"] for event in usage_events(team, 1)] == [last.headers["x-request-id"]]


def test_a_refused_invoke_is_recorded_as_the_error_it_was(team: Workspace) -> None:
    key = create_deployment(team, MODEL)

    response = post(team, "invoke", {"key": key, "inputs": {}})
    event = usage_event(team, response.headers["x-request-id"])

    assert (event["status"], event["error_code"], event["endpoint"]) == (
        400,
        "missing_variables",
        "deployments.invoke",
    )


def _groups(team: Workspace, **params: Any) -> dict[str | None, int]:
    response = team.api("GET", "/v2/usage", params=params)
    assert response.status_code == 200, response.text
    counts: dict[str | None, int] = {}
    for row in response.json()["series"]:
        counts[row.get("group")] = counts.get(row.get("group"), 0) + row["requests"]
    return counts


def test_usage_groups_and_filters_by_deployment_version_and_variant(team: Workspace) -> None:
    first, second = create_deployment(team, MODEL, variants=VARIANTS), create_deployment(team, MODEL)
    calls = [(first, {"environments": "production"}), (first, {}), (first, {}), (second, {})]
    for key, context in calls:
        assert post(team, "invoke", {"key": key, "inputs": INPUTS, "context": context}).status_code == 200
    team.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "plain"}])
    usage_events(team, len(calls) + 1)

    assert _groups(team, group_by="deployment") == {first: 3, second: 1, None: 1}
    assert _groups(team, group_by="variant", deployment_key=first) == {"production": 1, "default": 2}
    assert _groups(team, group_by="deployment_version", deployment_key=second) == {"1": 1}
    assert _groups(team, group_by="model", deployment_key=first, variant="production") == {MODEL: 1}
    assert _groups(team, group_by="deployment", deployment_version=2) == {}
    filtered = team.api("GET", "/v2/usage/events", params={"deployment_key": second}).json()["data"]
    assert [event["deployment_key"] for event in filtered] == [second]
    csv = team.api("GET", "/v2/usage/events", params={"deployment_key": second, "format": "csv"}).text
    assert "deployment_key,deployment_version,variant" in csv.splitlines()[0]
