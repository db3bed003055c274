"""A deployment's routing policy is the call's: its fallbacks and retries when the primary
upstream fails, its timeout, and its exact-match cache, whose hits are given back in the
invoke shape of the call that hits (a fresh id, the current version), streamed or whole.
A relaygate whose retry backoff runs in milliseconds, real fake upstreams."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.deployment_calls import INPUTS, create_deployment, orq, post, said
from support.server import RelaygateServer, Workspace, make_server
from upstream import FakeUpstream
from upstream.faults import Fault

FAST_RETRIES = {"RELAYGATE_RETRY_BACKOFF_BASE": "0.01", "RELAYGATE_PROBES_PER_MINUTE": "100000"}


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    server = make_server(tmp_path_factory.mktemp("deployment-routing"), **FAST_RETRIES).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pair(fast: RelaygateServer) -> Iterator[tuple[Workspace, FakeUpstream, FakeUpstream]]:
    """A workspace with a primary model and a fallback model, each on its own upstream."""
    with FakeUpstream(reply="from primary") as primary, FakeUpstream(reply="from fallback") as fallback:
        workspace = fast.new_workspace()
        workspace.add_model(primary, "gpt-test")
        workspace.add_model(fallback, "gpt-test", provider="spare")
        primary.reset()
        fallback.reset()
        yield workspace, primary, fallback


def test_the_deployments_fallback_answers_when_its_model_fails(
    pair: tuple[Workspace, FakeUpstream, FakeUpstream],
) -> None:
    workspace, primary, fallback = pair
    key = create_deployment(workspace, "fake/gpt-test", fallbacks=[{"model": "spare/gpt-test"}])
    primary.script("/chat/completions", [Fault(status=503)])

    response = post(workspace, "invoke", {"key": key, "inputs": INPUTS})

    assert response.status_code == 200, response.text
    assert response.json()["model"] == "spare/gpt-test"
    assert response.json()["choices"][0]["message"]["content"] == "from fallback"
    assert response.headers["x-relaygate-fallback"] == "true"
    assert fallback.requests_to("/chat/completions")[-1].json["messages"][0]["content"].endswith("relaygate.")


def test_a_streamed_invoke_falls_back_too(pair: tuple[Workspace, FakeUpstream, FakeUpstream]) -> None:
    workspace, primary, _ = pair
    key = create_deployment(workspace, "fake/gpt-test", fallbacks=[{"model": "spare/gpt-test"}])
    primary.script("/chat/completions", [Fault(status=500)])

    chunks = [event.data for event in orq(workspace).deployments.stream(key=key, inputs=INPUTS)]

    assert {chunk.model for chunk in chunks if chunk is not None} == {"spare/gpt-test"}
    assert "".join(said(chunk.choices[0]) for chunk in chunks if chunk is not None) == "from fallback"


def test_the_deployments_retry_tries_its_model_again(
    pair: tuple[Workspace, FakeUpstream, FakeUpstream],
) -> None:
    workspace, primary, _ = pair
    key = create_deployment(workspace, "fake/gpt-test", retry={"count": 2, "on_codes": [503]})
    primary.script("/chat/completions", [Fault(status=503), Fault(status=503)])

    answer = orq(workspace).deployments.invoke(key=key, inputs=INPUTS)

    assert answer is not None
    assert said(answer.choices[0]) == "from primary"
    assert len(primary.requests_to("/chat/completions")) == 3


def test_a_cache_hit_is_answered_in_the_shape_of_the_call_that_hits(
    pair: tuple[Workspace, FakeUpstream, FakeUpstream],
) -> None:
    workspace, primary, _ = pair
    key = create_deployment(workspace, "fake/gpt-test", cache={"type": "exact", "ttl": 60})
    request = {"key": key, "inputs": INPUTS, "invoke_options": {"include_usage": True}}

    first = post(workspace, "invoke", request)
    second = post(workspace, "invoke", request)
    streamed = post(workspace, "stream", request)

    assert len(primary.requests_to("/chat/completions")) == 1
    assert second.headers["x-relaygate-cache"] == "hit"
    assert second.json()["id"] != first.json()["id"]
    for name in ("model", "choices", "usage", "deployment", "provider"):
        assert second.json()[name] == first.json()[name]
    assert streamed.headers["x-relaygate-cache"] == "hit"
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert '"content":"from primary"' in streamed.text
    assert streamed.text.endswith("data: [DONE]\n\n")


def test_a_router_call_never_gets_an_invoke_answer_from_the_cache(
    pair: tuple[Workspace, FakeUpstream, FakeUpstream],
) -> None:
    workspace, primary, _ = pair
    key = create_deployment(workspace, "fake/gpt-test", cache={"type": "exact_match", "ttl": 60})
    post(workspace, "invoke", {"key": key, "inputs": INPUTS})

    answer = workspace.client().chat.completions.create(
        model=f"deployment/{key}", messages=[], extra_body={"inputs": INPUTS}
    )

    assert answer.object == "chat.completion"
    assert said(answer.choices[0]) == "from primary"
    assert len(primary.requests_to("/chat/completions")) == 1  # the same request: one upstream call
