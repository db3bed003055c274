"""Routing fields are checked before anything goes upstream: a bad one is a 400 naming it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream, Fault

ModelMaker = Callable[..., tuple[str, FakeUpstream]]
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
WEIGHT_MINUS_ONE = {"model": "MODEL", "weight": -1}


@pytest.fixture(scope="module")
def validation_model(routed: Workspace) -> Iterator[tuple[str, FakeUpstream]]:
    with FakeUpstream() as upstream:
        model = routed.add_model(upstream, "gpt-test", provider="valid")
        upstream.reset()
        yield str(model["router_id"]), upstream


def _bad_request(workspace: Workspace, model: str, extra: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError) as caught:
        workspace.client().chat.completions.create(model=model, messages=MESSAGES, extra_body=extra)
    error = caught.value.response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_routing"
    return dict(error)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"retry": {"count": 9}}, "retry.count"),
        ({"retry": {"count": 0}}, "retry.count"),
        ({"retry": {"on_codes": [429]}}, "retry.count"),
        ({"retry": 3}, "retry"),
        ({"retry": {"count": 2, "on_codes": [429, "503"]}}, "retry.on_codes[1]"),
        ({"retry": {"count": 2, "on_codes": 429}}, "retry.on_codes"),
        ({"fallbacks": [{"model": "fake/does-not-exist"}]}, "fallbacks[0].model"),
        ({"fallbacks": [{"model": "MODEL"}, {"name": "x"}]}, "fallbacks[1].model"),
        ({"fallbacks": ["MODEL"]}, "fallbacks[0]"),
        ({"fallbacks": []}, "fallbacks"),
        (
            {"load_balancer": {"type": "weight_based", "models": [{"model": "MODEL"}, WEIGHT_MINUS_ONE]}},
            "load_balancer.models[1].weight",
        ),
        ({"load_balancer": {"type": "random", "models": [{"model": "MODEL"}]}}, "load_balancer.type"),
        ({"load_balancer": {"type": "round_robin", "models": []}}, "load_balancer.models"),
        ({"load_balancer": {"models": [{"model": "MODEL", "weight": 0}]}}, "load_balancer.models"),
        ({"timeout": {"call_timeout": -5}}, "timeout.call_timeout"),
        ({"timeout": {"call_timeout": "fast"}}, "timeout.call_timeout"),
        ({"cache": {"type": "semantic"}}, "cache.type"),
        ({"cache": {"type": "exact_match", "ttl": 300_000}}, "cache.ttl"),
        ({"cache": {"type": "exact_match", "ttl": 0}}, "cache.ttl"),
        ({"orq": {"retry": {"count": 9}}}, "retry.count"),
        ({"orq": {"fallbacks": [{"model": "fake/does-not-exist"}]}}, "fallbacks[0].model"),
    ],
)
def test_invalid_routing_field_is_a_400_that_names_it(
    routed: Workspace, validation_model: tuple[str, FakeUpstream], extra: dict[str, Any], param: str
) -> None:
    model, upstream = validation_model
    extra = json.loads(json.dumps(extra).replace('"MODEL"', json.dumps(model)))
    error = _bad_request(routed, model, extra)
    assert error["param"] == param
    assert param in error["message"]
    assert upstream.requests == []  # nothing went upstream


def test_another_workspaces_model_reads_exactly_like_an_unknown_one(
    routing_relaygate: RelaygateServer, routed: Workspace, make_model: ModelMaker, fake_upstream: FakeUpstream
) -> None:
    model, _ = make_model("a")
    other = routing_relaygate.new_workspace()
    other.add_model(fake_upstream, "gpt-test", provider="theirs")  # exists, but in another workspace
    theirs = _bad_request(routed, model, {"fallbacks": [{"model": "theirs/gpt-test"}]})
    unknown = _bad_request(routed, model, {"fallbacks": [{"model": "nobody/gpt-test"}]})
    assert theirs["message"].replace("theirs", "X") == unknown["message"].replace("nobody", "X")
    assert theirs["param"] == unknown["param"] == "fallbacks[0].model"
    lb_theirs = _bad_request(routed, model, {"load_balancer": {"models": [{"model": "theirs/gpt-test"}]}})
    assert lb_theirs["param"] == "load_balancer.models[0].model"
    assert "does not exist or you do not have access to it" in lb_theirs["message"]


def test_fallback_of_another_model_type_is_refused(routed: Workspace, make_model: ModelMaker) -> None:
    model, _ = make_model("a")
    embedder, _ = make_model("emb", model_type="embedding")
    error = _bad_request(routed, model, {"fallbacks": [{"model": embedder}]})
    assert error["param"] == "fallbacks[0].model"
    assert "embedding model" in error["message"]
    assert "same type" in error["message"]


def test_nested_orq_form_and_the_old_retries_spelling_work(routed: Workspace, make_model: ModelMaker) -> None:
    primary, first = make_model("a")
    backup, second = make_model("b")
    first.script("/chat/completions", [Fault(status=503), Fault(status=503)])
    raw = routed.client().chat.completions.with_raw_response.create(
        model=primary,
        messages=MESSAGES,
        extra_body={"orq": {"retries": {"count": 1, "on_codes": [503]}, "fallbacks": [{"model": backup}]}},
    )
    assert raw.headers["x-relaygate-attempts"] == "3"
    assert raw.headers["x-relaygate-model"] == backup
    assert raw.parse().choices[0].message.content == "from b"
    sent = second.last_request.json
    assert not {"orq", "retries", "retry", "fallbacks"} & set(sent)


def test_on_codes_that_are_never_retried_are_ignored_not_refused(
    routed: Workspace, make_model: ModelMaker
) -> None:
    model, upstream = make_model("a")
    upstream.script("/chat/completions", [Fault(status=401)])
    with pytest.raises(openai.AuthenticationError):
        routed.client().chat.completions.create(
            model=model, messages=MESSAGES, extra_body={"retry": {"count": 3, "on_codes": [401, 429]}}
        )
    assert len(upstream.requests) == 1
