"""``model: "deployment/<key>"`` on the router, through the official openai SDK: the
template (rendered with ``inputs`` from the body or under ``orq``) before the client's
messages, the client's parameters over the deployment's, the deployment's routing unless
the client sends its own, and the usage event naming the deployment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from support.deployment_calls import INPUTS, create_deployment
from support.server import RelaygateServer, Workspace
from support.usage_events import usage_event
from upstream import FakeUpstream
from upstream.faults import Fault

QUESTION: list[ChatCompletionMessageParam] = [{"role": "user", "content": "One more thing."}]


@dataclass
class Team:
    workspace: Workspace
    primary: FakeUpstream
    spare: FakeUpstream


@pytest.fixture(scope="module")
def team(relaygate: RelaygateServer) -> Iterator[Team]:
    with FakeUpstream(reply="from primary") as primary, FakeUpstream(reply="from spare") as spare:
        workspace = relaygate.new_workspace()
        workspace.add_model(primary, "gpt-test")
        workspace.add_model(spare, "gpt-test", provider="spare")
        yield Team(workspace, primary, spare)


@pytest.fixture
def fresh(team: Team) -> Team:
    team.primary.reset()
    team.spare.reset()
    return team


def _sent(upstream: FakeUpstream) -> dict[str, Any]:
    return dict(upstream.requests_to("/chat/completions")[-1].json)


def test_the_template_comes_before_the_clients_messages_and_its_parameters_yield_to_the_clients(
    fresh: Team,
) -> None:
    key = create_deployment(
        fresh.workspace, "fake/gpt-test", parameters={"temperature": 0.2, "max_tokens": 40}
    )

    raw = fresh.workspace.client().chat.completions.with_raw_response.create(
        model=f"deployment/{key}", messages=QUESTION, temperature=0.9, extra_body={"inputs": INPUTS}
    )
    answer = raw.parse()

    sent = _sent(fresh.primary)
    assert sent["messages"] == [
        {"role": "system", "content": "You answer questions about relaygate."},
        {"role": "user", "content": "What is a deployment?"},
        *QUESTION,
    ]
    assert (sent["model"], sent["temperature"], sent["max_tokens"]) == ("gpt-test", 0.9, 40)
    assert "inputs" not in sent
    assert answer.choices[0].message.content == "from primary"
    assert answer.model == "fake/gpt-test"
    assert raw.headers["x-relaygate-deployment-version"] == "1"
    event = usage_event(fresh.workspace, raw.headers["x-request-id"])
    assert (event["deployment_key"], event["deployment_version"], event["variant"]) == (key, 1, "default")
    assert event["endpoint"] == "chat.completions"


def test_a_stream_and_inputs_and_context_under_orq(fresh: Team) -> None:
    key = create_deployment(
        fresh.workspace,
        "fake/gpt-test",
        variants=[{"name": "beta", "context": {"environments": "beta"}, "model": "spare/gpt-test"}],
    )

    stream = fresh.workspace.client().chat.completions.create(
        model=f"deployment/{key}",
        messages=QUESTION,
        stream=True,
        extra_body={"orq": {"inputs": INPUTS, "context": {"environments": "beta"}}},
    )
    chunks = list(stream)

    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == "from spare"
    assert {chunk.model for chunk in chunks} == {"spare/gpt-test"}
    sent = _sent(fresh.spare)
    assert sent["messages"][1] == {"role": "user", "content": "What is a deployment?"}
    assert "orq" not in sent
    assert "context" not in sent


def test_the_deployments_fallbacks_route_the_call_unless_the_client_sends_its_own(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, "fake/gpt-test", fallbacks=[{"model": "spare/gpt-test"}])
    client = fresh.workspace.client()
    fresh.primary.script("/chat/completions", [Fault(status=503), Fault(status=503)])

    through_deployment = client.chat.completions.create(
        model=f"deployment/{key}", messages=QUESTION, extra_body={"inputs": INPUTS}
    )
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model=f"deployment/{key}",
            messages=QUESTION,
            extra_body={"inputs": INPUTS, "fallbacks": [{"model": "fake/gpt-test"}]},
        )

    assert through_deployment.choices[0].message.content == "from spare"


def test_v2_router_serves_deployments_too(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, "fake/gpt-test")
    client = openai.OpenAI(
        base_url=f"{fresh.workspace.server.url}/v2/router", api_key=fresh.workspace.admin_key, max_retries=0
    )

    answer = client.chat.completions.create(
        model=f"deployment/{key}", messages=QUESTION, extra_body={"inputs": INPUTS}
    )

    assert answer.choices[0].message.content == "from primary"


def test_an_unknown_deployment_is_404_and_a_missing_variable_400(fresh: Team) -> None:
    key = create_deployment(fresh.workspace, "fake/gpt-test")
    client = fresh.workspace.client()

    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="deployment/nope", messages=QUESTION)
    with pytest.raises(openai.BadRequestError) as missing:
        client.chat.completions.create(
            model=f"deployment/{key}", messages=QUESTION, extra_body={"inputs": {"product": "x"}}
        )
    with pytest.raises(openai.BadRequestError) as not_chat:
        client.embeddings.create(model=f"deployment/{key}", input="text")

    assert unknown.value.code == "deployment_not_found"
    assert unknown.value.param == "model"
    assert missing.value.code == "missing_variables"
    assert "'question'" in missing.value.message
    assert not_chat.value.param == "model"
    assert fresh.primary.requests_to("/chat/completions") == []
