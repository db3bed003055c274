"""Moderations (with the official SDK) and rerank (the SDK has none: its generic ``post``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from support.server import Workspace
from support.usage_events import usage_events
from upstream import FakeUpstream

DOCUMENTS = ["the cat sat on the mat", "stock prices fell", "a cat and a dog"]


@pytest.fixture
def client(workspace: Workspace, upstream: FakeUpstream) -> Iterator[openai.OpenAI]:
    workspace.add_model(upstream, "moderation-test", model_type="moderation")
    workspace.add_model(upstream, "rerank-test", model_type="rerank")
    with workspace.client() as sdk:
        yield sdk


def test_moderation_flags_and_names_the_router_model(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    result = client.moderations.create(model="fake/moderation-test", input=["I will kill it", "hello"])
    assert result.model == "fake/moderation-test"
    assert [item.flagged for item in result.results] == [True, False]
    assert result.results[0].categories.violence is True
    sent = upstream.requests_to("/moderations")[-1].json
    assert sent == {"model": "moderation-test", "input": ["I will kill it", "hello"]}


def test_rerank_orders_documents(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    body = {
        "model": "fake/rerank-test",
        "query": "cat",
        "documents": DOCUMENTS,
        "top_n": 2,
        "return_documents": True,
    }
    answer: Any = client.post("/rerank", body=body, cast_to=object)
    assert [result["index"] for result in answer["results"]] == [0, 2]
    assert answer["results"][0]["relevance_score"] == 1.0
    assert answer["results"][0]["document"] == {"text": DOCUMENTS[0]}
    assert answer["usage"]["total_tokens"] > 0
    sent = upstream.requests_to("/rerank")[-1].json
    assert sent == {**body, "model": "rerank-test"}


def test_rerank_errors_come_back_openai_shaped(client: openai.OpenAI, workspace: Workspace) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.post("/rerank", body={"model": "fake/rerank-test", "query": "cat"}, cast_to=object)
    assert refused.value.param == "documents"
    wrong_type = httpx.post(
        f"{workspace.server.url}/v3/router/rerank",
        json={"model": "fake/moderation-test", "query": "q", "documents": ["d"]},
        headers={"authorization": f"Bearer {workspace.admin_key}"},
        timeout=30,
    )
    assert wrong_type.status_code == 400
    assert wrong_type.json()["error"]["code"] == "model_type_mismatch"


def test_rerank_is_priced_as_input_tokens(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "rerank-test", model_type="rerank", input_cost="4")["router_id"]
    body = {"model": model, "query": "cat", "documents": DOCUMENTS}
    with workspace.client() as sdk:
        answer: Any = sdk.post("/rerank", body=body, cast_to=object)
    tokens = answer["usage"]["total_tokens"]  # rerank answers report one total: all of it input
    (event,) = usage_events(workspace, 1)
    assert (event["prompt_tokens"], event["completion_tokens"], event["total_tokens"]) == (tokens, 0, tokens)
    assert event["cost_nano"] == tokens * 4_000  # 4 USD per 1M tokens
    assert event["estimated"] is False
