"""Every evaluator kind scoring real answers over real sockets, with exact expected scores:
the pure kinds in process, the judge and the embedding model played by a fake upstream
(reached through relaygate's own router, so usage and limits apply), a deployment as the
judge, and a remote scorer on loopback under the upstreams' SSRF rules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from evaluators.scorer import Scorer
from relaygate.evaluators.similarity import cosine

from support.server import RelaygateServer, Workspace, make_server
from upstream import FakeUpstream, embedding_vector
from upstream.media import DEFAULT_DIMENSIONS

Judged = tuple[Workspace, str, str]


def scored(
    workspace: Workspace, definition: dict[str, Any], output: str, expected: str | None = None
) -> dict[str, Any]:
    """The score of one sample by an unsaved evaluator (``POST /v2/evaluators/test``)."""
    sample = {"input": "Where is my order?", "output": output, "expected": expected}
    response = workspace.api("POST", "/v2/evaluators/test", json={**definition, "sample": sample})
    assert response.status_code == 200, response.text
    return dict(response.json())


def verdict(result: dict[str, Any]) -> tuple[Any, ...]:
    return result["value"], result["passed"], result["reason"], result["error"]


def function(**params: Any) -> dict[str, Any]:
    return {"type": "function_eval", "function_params": params}


@pytest.mark.parametrize(
    ("definition", "output", "expected", "value"),
    [
        (function(type="exact_match", ignore_case=True), "PARIS", "paris", 1.0),
        (function(type="contains_all", keywords=["order", "ship"]), "order shipped", None, 1.0),
        (function(type="regex", pattern="#[0-9]{4}\\b"), "order #123", None, 0.0),
        (function(type="is_valid_json"), '{"ok": true}', None, 1.0),
        ({"type": "json_schema", "schema": '{"type": "object", "required": ["id"]}'}, '{"id": 7}', None, 1.0),
        (function(type="length_between", min=1, max=3), "four", None, 0.0),
    ],
)
def test_the_pure_kinds_score_exactly(
    judged: Judged, definition: dict[str, Any], output: str, expected: str | None, value: float
) -> None:
    result = scored(judged[0], definition, output, expected)
    assert (result["value"], result["passed"], result["error"]) == (value, value == 1.0, None)


def test_similarity_through_the_workspaces_embedding_model(
    judged: Judged, judge_upstream: FakeUpstream
) -> None:
    workspace, _, embedder = judged
    definition = {
        "type": "function_eval",
        "function_params": {"type": "cosine_similarity", "model": embedder, "threshold": 0.5},
    }
    judge_upstream.reset()
    result = scored(workspace, definition, "The parcel left today.", "Your order shipped today.")
    expected = cosine(
        embedding_vector("The parcel left today.", DEFAULT_DIMENSIONS),
        embedding_vector("Your order shipped today.", DEFAULT_DIMENSIONS),
    )
    assert result["value"] == pytest.approx(expected, abs=1e-6)
    assert result["passed"] is (expected >= 0.5)
    assert result["error"] is None
    sent = judge_upstream.requests_to("/embeddings")[-1].json
    assert sent["input"] == ["The parcel left today.", "Your order shipped today."]
    same = scored(workspace, definition, "identical", "identical")
    assert (same["value"], same["passed"]) == (pytest.approx(1.0), True)


JUDGE = {"type": "llm_eval", "mode": "single", "prompt": "Question: {{input}}\nAnswer: {{output}}"}


def test_the_judge_scores_and_its_unreadable_answers_are_errors(
    judged: Judged, judge_upstream: FakeUpstream
) -> None:
    workspace, judge, _ = judged
    rating = {**JUDGE, "model": judge, "output_type": "number", "min": 1, "max": 5, "threshold": 3}
    judge_upstream.reset()
    assert verdict(scored(workspace, rating, "clear")) == (4.0, True, "Clear and correct.", None)
    sent = judge_upstream.requests_to("/chat/completions")[-1].json
    assert sent["messages"][1] == {"role": "user", "content": "Question: Where is my order?\nAnswer: clear"}
    assert "a number from 1 to 5" in sent["messages"][0]["content"]
    assert (sent["temperature"], "response_format" in sent) == (0, False)  # the model enforces no schema
    assert verdict(scored(workspace, rating, "vague")) == (2.0, False, "Too vague.", None)
    assert verdict(scored(workspace, {**JUDGE, "model": judge}, "polite")) == (1.0, True, "Polite.", None)
    chatty = scored(workspace, rating, "chatty")
    assert chatty["value"] is None
    assert 'not a JSON object: "Sure! I\'d rate this a 4."' in chatty["error"]
    excessive = scored(workspace, rating, "excessive")
    assert "score 9 is not a number from 1 to 5" in excessive["error"]


def test_a_judge_that_enforces_schemas_is_asked_for_structured_output(
    judged: Judged, judge_upstream: FakeUpstream
) -> None:
    workspace = judged[0]
    strict = workspace.add_model(
        judge_upstream,
        "gpt-test",
        provider="strict",
        supports_strict_tool=True,
        supports_tool_calling=True,
        force=True,
    )["router_id"]
    judge_upstream.reset()
    result = scored(workspace, {**JUDGE, "model": strict, "output_type": "number"}, "clear")
    sent = judge_upstream.requests_to("/chat/completions")[-1].json
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert verdict(result) == (1.0, None, "x", None)  # the fake fills the schema: score 1, reason "x"


def test_a_deployment_can_be_the_judge(judged: Judged, judge_upstream: FakeUpstream) -> None:
    workspace, judge, _ = judged
    deployment = {
        "key": "strict-judge",
        "model": judge,
        "messages": [{"role": "system", "content": "You are strict."}],
    }
    assert workspace.api("POST", "/v2/deployments", json=deployment).status_code == 200
    judge_upstream.reset()
    result = scored(
        workspace, {**JUDGE, "model": "deployment/strict-judge", "output_type": "number"}, "clear"
    )
    assert verdict(result) == (4.0, None, "Clear and correct.", None)
    sent = judge_upstream.requests_to("/chat/completions")[-1].json
    assert sent["messages"][0] == {"role": "system", "content": "You are strict."}


def _events(workspace: Workspace, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        found = workspace.api("GET", "/v2/usage/events").json()["data"]
        if len(found) >= count or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.1)


def test_a_judges_call_is_the_callers_usage_and_under_its_limits(
    relaygate: RelaygateServer, judge_upstream: FakeUpstream
) -> None:
    workspace = relaygate.new_workspace("limited")
    judge = workspace.add_model(judge_upstream, "gpt-test", provider="judge", input_cost=1, output_cost=2)[
        "router_id"
    ]
    stored = workspace.api("POST", "/v2/evaluators", json={**JUDGE, "key": "tone", "model": judge}).json()
    first = workspace.api("POST", f"/v2/evaluators/{stored['_id']}/test", json={"output": "polite"}).json()
    assert first["passed"] is True
    [event] = _events(workspace, 1)
    assert (event["name"], event["endpoint"], event["router_model"]) == (
        "evaluator:tone",
        "chat.completions",
        judge,
    )
    assert event["metadata"] == {"relaygate_evaluator": stored["_id"], "relaygate_evaluator_version": "1"}
    assert event["cost_nano"] > 0
    keys = workspace.api("GET", "/v2/api-keys").json()["data"]
    assert event["api_key_id"] == keys[0]["id"]
    budget = workspace.api("POST", "/v2/budgets", json={"requests_per_minute": 1})
    assert budget.status_code == 200, budget.text
    time.sleep(0.3)  # every process reloads its limits after the write
    test = f"/v2/evaluators/{stored['_id']}/test"
    results = [workspace.api("POST", test, json={"output": "polite"}).json() for _ in range(2)]
    assert results[0]["passed"] is True  # the minute's one request
    assert results[1]["value"] is None
    assert "HTTP 429" in results[1]["error"]


def test_a_remote_scorer_is_posted_the_sample_and_its_secrets_stay_hidden(
    judged: Judged, scorer: Scorer
) -> None:
    workspace = judged[0]
    secret = {"Authorization": "Bearer scorer-secret-1234"}
    body = {"type": "http_eval", "key": "remote", "url": f"{scorer.url}/score", "method": "POST",
            "headers": secret, "payload": {"rubric": "v1"}}  # fmt: skip
    stored = workspace.api("POST", "/v2/evaluators", json=body).json()
    assert stored["headers"] == {"Authorization": "Bea…1234"}
    assert "scorer-secret" not in workspace.api("GET", f"/v2/evaluators/{stored['_id']}").text
    sample = {"input": {"q": "hi"}, "output": "hello", "expected": "hello"}
    result = workspace.api("POST", f"/v2/evaluators/{stored['_id']}/test", json=sample).json()
    assert verdict(result) == (5.0, True, "5 chars", None)
    received = scorer.received[-1]
    assert received.body == {"rubric": "v1", "input": {"q": "hi"}, "output": "hello", "expected": "hello"}
    assert received.headers["authorization"] == "Bearer scorer-secret-1234"
    kept = workspace.api(
        "PATCH", f"/v2/evaluators/{stored['_id']}", json={"headers": stored["headers"], "timeout_ms": 300}
    )
    assert kept.json()["version"] == 2
    workspace.api("POST", f"/v2/evaluators/{stored['_id']}/test", json=sample)
    assert scorer.received[-1].headers["authorization"] == "Bearer scorer-secret-1234"


@pytest.mark.parametrize(
    ("path", "says"),
    [("fail", "answered HTTP 500"), ("slow", "could not be reached"), ("large", "larger than 65536 bytes")],
)
def test_a_remote_scorer_that_fails_is_an_evaluator_error(
    judged: Judged, scorer: Scorer, path: str, says: str
) -> None:
    definition = {"type": "http_eval", "url": f"{scorer.url}/{path}", "timeout_ms": 300}
    result = scored(judged[0], definition, "x")
    assert result["value"] is None
    assert says in result["error"]


@pytest.fixture(scope="module")
def strict_relaygate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    """Private addresses refused, but loopback allowlisted, as an operator would for an internal scorer."""
    env = {"RELAYGATE_ALLOW_PRIVATE_UPSTREAMS": "", "RELAYGATE_UPSTREAM_ALLOWLIST": "127.0.0.1/32"}
    server = make_server(tmp_path_factory.mktemp("ssrf"), **env).start()
    yield server
    server.stop()


def test_a_remote_scorer_obeys_the_upstreams_ssrf_rules(
    strict_relaygate: RelaygateServer, scorer: Scorer
) -> None:
    workspace = strict_relaygate.new_workspace()
    for url in ("http://169.254.169.254/latest/meta-data", "http://10.0.0.5/score", "file:///etc/passwd"):
        response = workspace.api("POST", "/v2/evaluators", json={"type": "http_eval", "key": "k", "url": url})
        assert response.status_code == 400, url
        error = response.json()["error"]
        assert (error["param"], error["code"]) == ("url", "upstream_not_allowed")
    assert (
        "RELAYGATE_UPSTREAM_ALLOWLIST"
        in workspace.api(
            "POST", "/v2/evaluators", json={"type": "http_eval", "key": "k", "url": "http://10.0.0.5/score"}
        ).json()["message"]
    )
    allowed = scored(workspace, {"type": "http_eval", "url": f"{scorer.url}/score"}, "four", "four")
    assert verdict(allowed) == (4.0, True, "4 chars", None)
