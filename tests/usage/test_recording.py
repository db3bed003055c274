"""Every router call is recorded with its tokens and cost, streamed or not."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from support.server import Workspace
from support.usage_events import usage_events
from tests_shared import assert_openai_error
from upstream import FakeUpstream, Fault

MESSAGES: list[Any] = [{"role": "user", "content": "Count the tokens of this message, please."}]
PRICES = {"input_cost": "2.5", "output_cost": "10"}


def _expected_cost(prompt: int, completion: int) -> float:
    usd = Decimal("2.5") * prompt / 1_000_000 + Decimal(10) * completion / 1_000_000
    return float(usd)


def test_streamed_and_unary_calls_record_the_same_tokens_and_cost(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test", **PRICES)["router_id"]
    client = workspace.client()
    unary = client.chat.completions.create(model=model, messages=MESSAGES)
    chunks = list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))
    assert all(chunk.usage is None for chunk in chunks)

    newest, oldest = usage_events(workspace, 2)
    assert (oldest["stream"], newest["stream"]) == (False, True)
    assert unary.usage is not None
    for event in (oldest, newest):
        assert event["prompt_tokens"] == unary.usage.prompt_tokens
        assert event["completion_tokens"] == unary.usage.completion_tokens
        assert event["total_tokens"] == unary.usage.total_tokens
        assert event["cost"] == pytest.approx(
            _expected_cost(unary.usage.prompt_tokens, unary.usage.completion_tokens)
        )
        assert event["prices"] == {"input": "2.5", "output": "10"}  # no image price: absent
        assert event["estimated"] is False
        assert event["status"] == 200
        assert event["router_model"] == model
    assert oldest["cost_nano"] == newest["cost_nano"] > 0


def test_usage_chunk_reaches_only_clients_that_asked_for_it(
    workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    client = workspace.client()
    plain = list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))
    assert plain
    assert all(chunk.usage is None for chunk in plain)
    assert all(chunk.choices for chunk in plain), "the usage-only chunk must not reach this client"
    asked = list(
        client.chat.completions.create(
            model=model, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert asked[-1].usage is not None
    assert asked[-1].choices == []
    # Both calls were counted, whether the client saw the usage chunk or not.
    events = usage_events(workspace, 2)
    assert events[0]["total_tokens"] == events[1]["total_tokens"] == asked[-1].usage.total_tokens


def test_identity_thread_name_and_metadata_are_recorded(workspace: Workspace, upstream: FakeUpstream) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    workspace.client().chat.completions.create(
        model=model,
        messages=MESSAGES,
        extra_body={
            "identity": {
                "id": "user-42",
                "display_name": "Ada",
                "email": "ada@example.com",
                "metadata": {"plan": "pro"},
            },
            "thread": {"id": "thread-7", "tags": ["support"]},
            "name": "ticket-summary",
            "metadata": {"feature": "summaries", "tenant": 12},
        },
    )
    workspace.client().with_options(
        default_headers={"x-relaygate-identity": "user-43"}
    ).chat.completions.create(model=model, messages=MESSAGES)
    by_header, by_body = usage_events(workspace, 2)
    assert by_body["identity_id"] == "user-42"
    assert by_body["thread_id"] == "thread-7"
    assert by_body["thread_tags"] == ["support"]
    assert by_body["name"] == "ticket-summary"
    assert by_body["metadata"] == {"feature": "summaries", "tenant": "12"}
    assert by_header["identity_id"] == "user-43"
    sent = upstream.last_request
    assert sent is not None
    assert "identity" not in sent.json
    assert "metadata" not in sent.json


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata.k"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
        ({"identity": {"display_name": "no id"}}, "identity.id"),
        ({"thread": {"id": "t", "tags": "not-a-list"}}, "thread.tags"),
    ],
)
def test_bad_attribution_fields_are_a_400_that_says_which(
    workspace: Workspace, upstream: FakeUpstream, extra: dict[str, Any], param: str
) -> None:
    model = workspace.add_model(upstream, "gpt-test")["router_id"]
    with pytest.raises(openai.BadRequestError) as caught:
        workspace.client().chat.completions.create(model=model, messages=MESSAGES, extra_body=extra)
    assert caught.value.body["param"] == param  # type: ignore[index]


def test_tokens_are_counted_offline_when_the_upstream_reports_none(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test", **PRICES)["router_id"]
    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-test",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there, friend."},
                "finish_reason": "stop",
            }
        ],
    }
    fake_upstream.script("/chat/completions", [Fault(body=answer)])
    workspace.client().chat.completions.create(model=model, messages=MESSAGES)
    (event,) = usage_events(workspace, 1)
    assert event["estimated"] is True
    # o200k: the message is 9 tokens + 3 framing + 3 priming; the answer is 5 tokens.
    assert (event["prompt_tokens"], event["completion_tokens"]) == (15, 5)
    assert event["cost"] == pytest.approx(_expected_cost(15, 5))


def test_refusals_and_upstream_errors_are_recorded_too(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test")["router_id"]
    fake_upstream.script("/chat/completions", [Fault(status=500)])
    with pytest.raises(openai.InternalServerError):
        workspace.client().chat.completions.create(model=model, messages=MESSAGES)
    with pytest.raises(openai.NotFoundError):
        workspace.client().chat.completions.create(model="fake/missing", messages=MESSAGES)
    response = httpx.post(
        f"{workspace.server.url}/v3/router/chat/completions",
        headers={"authorization": f"Bearer {workspace.admin_key}"},
        content=b"{not json",
    )
    assert_openai_error(response, 400, "invalid_request_error")
    statuses = sorted(event["status"] for event in usage_events(workspace, 3))
    assert statuses[0] == 400
    assert statuses[1] == 404
    assert statuses[2] >= 500
