"""The hosted product's Python SDK (orq-ai-sdk) against /v2/evaluators, unchanged.

Its create call knows only ``python_eval`` and ``llm_eval``; relaygate's other kinds are
created through relaygate's own body and must still parse as the SDK's evaluator types
(``function_eval``, ``json_schema``, ``http_eval``) in every reply: list, get, update.
"""

from __future__ import annotations

from typing import Any

import pytest
from orq_ai_sdk import Orq, models

from evaluators.scorer import Scorer

from support.server import Workspace

Judged = tuple[Workspace, str, str]


def sdk(workspace: Workspace) -> Orq:
    return Orq(api_key=workspace.admin_key, server_url=workspace.server.url)


def test_a_python_evaluator_is_refused_and_says_what_to_do_instead(judged: Judged) -> None:
    orq = sdk(judged[0])
    # A dict request for python_eval fails inside the SDK before anything is sent (a client-side
    # quirk of orq-ai-sdk 4.17.13); the SDK's own model class sends it.
    request = models.Python(type="python_eval", key="is-short", code="def evaluate(log): return True")
    with pytest.raises(models.APIDefaultError) as refused:
        orq.evals.create(request=request)
    assert refused.value.status_code == 400
    assert "runs no user code in its process" in refused.value.body
    assert "http_eval" in refused.value.body


def test_every_kind_parses_as_the_sdks_evaluator_types(judged: Judged, scorer: Scorer) -> None:
    workspace, judge, embedder = judged
    orq = sdk(workspace)
    created = orq.evals.create(
        request=models.Llm(
            type="llm_eval", key="sdk-judge", mode="single", model=judge, prompt="Rate the tone 1-5"
        )
    )
    assert (created.key, created.type, created.output_type) == ("sdk-judge", "llm_eval", "boolean")
    ours: list[dict[str, Any]] = [
        {"type": "function_eval", "key": "sdk-exact", "function_params": {"type": "exact_match"}},
        {"type": "function_eval", "key": "sdk-similar",
         "function_params": {"type": "cosine_similarity", "model": embedder, "threshold": 0.7}},
        {"type": "json_schema", "key": "sdk-schema", "schema": {"type": "object"}},
        {"type": "http_eval", "key": "sdk-remote", "url": f"{scorer.url}/score",
         "headers": {"X-Token": "t0ken-secret"}},
        {"type": "llm_eval", "key": "sdk-rating", "model": judge, "prompt": "{{output}}",
         "output_type": "number"},
    ]  # fmt: skip
    for body in ours:
        assert workspace.api("POST", "/v2/evaluators", json=body).status_code == 200
    listed = orq.evals.all(limit=50)
    by_key = {item.key: item for item in listed.data}
    assert set(by_key) >= {"sdk-judge", *(body["key"] for body in ours)}
    assert {by_key[body["key"]].type for body in ours} == {
        "function_eval",
        "json_schema",
        "http_eval",
        "llm_eval",
    }
    for key, item in by_key.items():
        detailed = orq.evals.get(id=item.id)
        assert (detailed.id, detailed.display_name) == (item.id, key)
    rating = orq.evals.get(id="sdk-rating")
    assert isinstance(rating, models.ResponseBodyLLM)
    assert rating.model is not None
    assert rating.model.id == judge  # get-by-id describes the judge's model as an object


def test_updates_versions_and_deletes_through_the_sdk(judged: Judged) -> None:
    workspace, judge, _ = judged
    orq = sdk(workspace)
    created = orq.evals.create(
        request={
            "type": "llm_eval",
            "key": "sdk-versioned",
            "mode": "single",
            "model": judge,
            "prompt": "{{output}}",
        }
    )
    updated = orq.evals.update(id=created.id, description="stricter")
    assert updated.description == "stricter"
    versions = orq.evals.list_versions(id=created.id)  # items are schema-less to the SDK: it keeps no field
    assert (len(versions.data), versions.has_more) == (2, False)
    assert orq.evals.get_version(id=created.id, version_id="1") is not None
    ours = workspace.api("GET", f"/v2/evaluators/{created.id}/versions").json()["data"]
    assert [(version["version"], version["description"]) for version in ours] == [(2, "stricter"), (1, "")]
    assert orq.evals.delete(id=created.id) is None
    with pytest.raises(models.GetEvalEvalsResponseBody) as missing:
        orq.evals.get(id=created.id)
    assert created.id in missing.value.data.message
    with pytest.raises(models.DeleteEvalResponseBody):
        orq.evals.delete(id=created.id)
