"""An experiment's life over real sockets: checked definitions, the budget stop, pause,
cancel and resume (no datapoint skipped, none generated twice but what a cancel abandoned),
a failed item, delete, and workspaces that never see each other's experiments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from experiments.conftest import Lab, add_dataset, question, wait_for, wait_until
from experiments.test_experiment_run import _events

from support.server import RelaygateServer
from tests_shared import assert_openai_error
from upstream import Fault

EIGHT = ["France"] * 8
# One France item on the model target: 6 prompt words at 0.001 USD, "Paris" at 0.002.
ITEM_USD = 0.008


@pytest.fixture(scope="module")
def eight(lab: Lab) -> str:
    """A dataset of eight questions."""
    return add_dataset(lab.workspace, EIGHT)[0]


@pytest.fixture
def slow(fresh: Lab) -> Iterator[Lab]:
    """The model target answering each call after 0.15 s."""
    fresh.model_upstream.script("/chat/completions", [Fault(delay=0.15)] * 64)
    yield fresh
    fresh.reset()


def _one_target(lab: Lab, dataset: str, **fields: Any) -> dict[str, Any]:
    return lab.create(dataset_id=dataset, targets=[{"model": lab.model}], evaluators=[lab.exact], **fields)


def _received(lab: Lab) -> int:
    return len(lab.model_upstream.requests_to("/chat/completions"))


def _results(lab: Lab, experiment_id: str) -> list[dict[str, Any]]:
    rows = lab.get(experiment_id, "results", limit=200)["data"]
    return [result for row in rows for result in row["results"]]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"dataset_id": "01NOSUCHDATASET00000000000"}, "dataset_id"),
        ({"targets": [{"model": "nobody/nothing"}]}, "targets[0].model"),
        ({"targets": [{"model": "X"}, {"deployment": "no-such-deployment"}]}, "targets[0].model"),
        ({"targets": [{"model": "M"}, {"deployment": "D", "version": 9}]}, "targets[1].version"),
        ({"targets": [{"model": "M", "deployment": "D"}]}, "targets[0]"),
        ({"targets": [{"model": "M", "version": 1}]}, "targets[0].version"),
        ({"targets": [{"model": "M"}, {"model": "M"}]}, "targets[1]"),
        ({"targets": []}, "targets"),
        ({"evaluators": ["no-such-evaluator"]}, "evaluators[0]"),
        ({"parameters": {"stream": False}}, "parameters.stream"),
        ({"concurrency": 33}, "concurrency"),
        ({"budget_usd": 0}, "budget_usd"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_definition_with_a_bad_reference_is_a_400_naming_the_field(
    lab: Lab, change: dict[str, Any], param: str
) -> None:
    named = {"M": lab.model, "D": lab.deployment}
    if "targets" in change:
        change = {
            "targets": [
                {k: named.get(v, v) if isinstance(v, str) else v for k, v in t.items()}
                for t in change["targets"]
            ]
        }
    body = {"name": "bad", "dataset_id": lab.dataset, "targets": [{"model": lab.model}], **change}
    response = lab.workspace.api("POST", "/v2/experiments", json=body)
    error = assert_openai_error(response, 400, "invalid_request_error")["error"]
    assert error["param"] == param, error


def test_a_pinned_deployment_version_is_rendered_from_that_version(fresh: Lab) -> None:
    changed = fresh.workspace.api(
        "PATCH",
        f"/v2/deployments/{fresh.deployment}",
        json={"messages": [{"role": "system", "content": "Version two says hello."}]},
    )
    assert changed.status_code == 200, changed.text
    try:
        created = fresh.create(targets=[{"deployment": fresh.deployment, "version": 1}], evaluators=[])
        assert created["targets"][0]["label"] == f"deployment:{fresh.deployment}@v1"
        fresh.post(created["id"], "start")
        assert wait_for(fresh, created["id"])["status"] == "completed"
        sent = [request.json for request in fresh.deployment_upstream.requests_to("/chat/completions")]
        assert [body["messages"][0]["content"] for body in sent] == ["Answer with one word."] * 3
    finally:
        rollback = fresh.workspace.api(
            "POST", f"/v2/deployments/{fresh.deployment}/rollback", json={"version": 1}
        )
        assert rollback.status_code == 200, rollback.text


def test_the_run_stops_at_its_budget_and_resumes_with_a_higher_one(fresh: Lab, eight: str) -> None:
    created = _one_target(fresh, eight, concurrency=1, budget_usd=0.02)
    fresh.post(created["id"], "start")
    stopped = wait_for(fresh, created["id"])
    assert stopped["status"] == "budget_reached"
    progress = stopped["progress"]
    assert (progress["done"], progress["remaining"]) == (3, 5)  # 0.008, 0.016, then 0.024 >= 0.02
    assert progress["spend_usd"] == pytest.approx(3 * ITEM_USD)
    assert _received(fresh) == 3
    refused = fresh.workspace.api("POST", f"/v2/experiments/{created['id']}/resume")
    assert assert_openai_error(refused, 400, "invalid_request_error")["error"]["param"] == "budget_usd"
    resumed = fresh.post(created["id"], "resume", json={"budget_usd": 1})
    assert (resumed["status"], resumed["budget_usd"]) == ("running", 1.0)
    finished = wait_for(fresh, created["id"])
    assert (finished["status"], finished["progress"]["done"]) == ("completed", 8)
    assert _received(fresh) == 8, "the items done before the stop were not generated again"


def test_a_pause_lets_items_in_flight_finish_and_a_resume_runs_the_rest(slow: Lab, eight: str) -> None:
    created = _one_target(slow, eight, concurrency=2)
    slow.post(created["id"], "start")
    wait_until(slow, created["id"], done=2)
    paused = slow.post(created["id"], "pause")
    assert paused["status"] == "paused"
    events = _events(slow, created["id"])  # ends once the items in flight are stored
    assert events[-1][1]["status"] == "paused"
    settled = slow.get(created["id"])
    assert 2 <= settled["progress"]["done"] < 8
    assert _received(slow) == settled["progress"]["done"], "every item sent was finished and stored"
    conflict = slow.workspace.api("POST", f"/v2/experiments/{created['id']}/start")
    assert_openai_error(conflict, 409, "invalid_request_error")
    slow.post(created["id"], "resume")
    assert wait_for(slow, created["id"])["status"] == "completed"
    assert _received(slow) == 8, "no datapoint generated twice"
    assert [result["status"] for result in _results(slow, created["id"])] == ["done"] * 8


def test_a_cancel_abandons_items_in_flight_and_a_resume_generates_only_those_again(
    slow: Lab, eight: str
) -> None:
    created = _one_target(slow, eight, concurrency=2)
    slow.post(created["id"], "start")
    wait_until(slow, created["id"], done=2)
    assert slow.post(created["id"], "cancel")["status"] == "cancelled"
    _events(slow, created["id"])  # ends once the run gave the experiment back
    stored = slow.get(created["id"])["progress"]["done"]
    abandoned = _received(slow) - stored
    assert 0 <= abandoned <= 2
    assert slow.get(created["id"])["progress"]["done"] == stored, "nothing is stored after a cancel"
    slow.post(created["id"], "resume")
    finished = wait_for(slow, created["id"])
    assert (finished["status"], finished["progress"]["done"]) == ("completed", 8)
    assert _received(slow) == 8 + abandoned, "only the abandoned items were asked again"
    assert len(_results(slow, created["id"])) == 8


def test_an_upstream_error_fails_that_item_only(fresh: Lab) -> None:
    fresh.model_upstream.script("/chat/completions", [Fault(status=400)])
    created = fresh.create(targets=[{"model": fresh.model}], evaluators=[fresh.exact], concurrency=1)
    fresh.post(created["id"], "start")
    finished = wait_for(fresh, created["id"])
    assert finished["status"] == "completed"
    assert (finished["progress"]["done"], finished["progress"]["failed"]) == (2, 1)
    first = _results(fresh, created["id"])[0]
    assert first["status"] == "failed"
    assert first["error"].startswith("HTTP 400")
    assert first["scores"] == []
    assert first["output"] is None
    summary = fresh.get(created["id"], "summary")["targets"][0]
    assert summary["errors"]["count"] == 1
    assert summary["errors"]["messages"][0]["count"] == 1

    before = _received(fresh)
    again = fresh.post(created["id"], "resume", json={"retry_failed": True})
    assert again["status"] == "running"
    rerun = wait_for(fresh, created["id"])
    assert (rerun["status"], rerun["progress"]["done"], rerun["progress"]["failed"]) == ("completed", 3, 0)
    assert _received(fresh) == before + 1, "only the failed item was generated again"
    assert [result["status"] for result in _results(fresh, created["id"])] == ["done"] * 3
    nothing_left = fresh.workspace.api(
        "POST", f"/v2/experiments/{created['id']}/resume", json={"retry_failed": True}
    )
    assert (
        "nothing to run again"
        in assert_openai_error(nothing_left, 409, "invalid_request_error")["error"]["message"]
    )


def test_a_model_target_needs_messages(fresh: Lab) -> None:
    created_dataset = fresh.workspace.api("POST", "/v2/datasets", json={"display_name": "inputs only"})
    dataset = created_dataset.json()["_id"]
    fresh.workspace.api(
        "POST", f"/v2/datasets/{dataset}/datapoints/bulk", json={"items": [{"inputs": {"country": "France"}}]}
    )
    created = fresh.create(dataset_id=dataset, evaluators=[])
    fresh.post(created["id"], "start")
    assert wait_for(fresh, created["id"])["status"] == "completed"
    model_result, deployment_result = _results(fresh, created["id"])
    assert model_result["status"] == "failed"
    assert "has no messages" in model_result["error"]
    assert deployment_result["status"] == "done", "a deployment renders its template with the inputs"


def test_deleting_a_running_experiment_stops_it(slow: Lab, eight: str) -> None:
    created = _one_target(slow, eight, concurrency=1)
    slow.post(created["id"], "start")
    wait_until(slow, created["id"], done=1)
    deleted = slow.workspace.api("DELETE", f"/v2/experiments/{created['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    for path in ("", "/results", "/summary"):
        gone = slow.workspace.api("GET", f"/v2/experiments/{created['id']}{path}")
        assert_openai_error(gone, 404, "invalid_request_error")
    again = slow.workspace.api("DELETE", f"/v2/experiments/{created['id']}")
    assert_openai_error(again, 404, "invalid_request_error")


def test_another_workspace_never_sees_an_experiment(lab: Lab, relaygate: RelaygateServer) -> None:
    created = lab.create(name="private")
    other = relaygate.new_workspace("outsider")
    for method, path in [
        ("GET", ""),
        ("GET", "/results"),
        ("GET", "/summary"),
        ("GET", "/export"),
        ("GET", "/events"),
        ("POST", "/start"),
        ("POST", "/pause"),
        ("POST", "/cancel"),
        ("POST", "/resume"),
        ("DELETE", ""),
    ]:
        response = other.api(method, f"/v2/experiments/{created['id']}{path}")
        assert_openai_error(response, 404, "invalid_request_error")
    assert other.api("GET", "/v2/experiments").json()["data"] == []
    own = [
        experiment["id"]
        for experiment in lab.workspace.api("GET", "/v2/experiments", params={"limit": 200}).json()["data"]
    ]
    assert created["id"] in own
    borrowed = other.api(
        "POST",
        "/v2/experiments",
        json={"name": "x", "dataset_id": lab.dataset, "targets": [{"model": lab.model}]},
    )
    assert assert_openai_error(borrowed, 400, "invalid_request_error")["error"]["param"] == "dataset_id"
    router_key = lab.workspace.new_key("router")
    assert_openai_error(lab.workspace.api("GET", "/v2/experiments", key=router_key), 403, "permission_error")
    assert lab.get(created["id"])["status"] == "draft"


def test_starting_twice_is_a_conflict_and_a_question_set_is_fixed_at_start(fresh: Lab) -> None:
    dataset, _ = add_dataset(fresh.workspace, ["Italy"])
    created = fresh.create(dataset_id=dataset, targets=[{"model": fresh.model}], evaluators=[])
    started = fresh.post(created["id"], "start")
    assert started["progress"]["total"] == 1
    fresh.workspace.api(
        "POST",
        f"/v2/datasets/{dataset}/datapoints/bulk",
        json={"items": [{"messages": [{"role": "user", "content": question("Spain")}]}]},
    )
    assert_openai_error(
        fresh.workspace.api("POST", f"/v2/experiments/{created['id']}/start"), 409, "invalid_request_error"
    )
    finished = wait_for(fresh, created["id"])
    assert (finished["status"], finished["progress"]["total"], finished["progress"]["done"]) == (
        "completed",
        1,
        1,
    )
