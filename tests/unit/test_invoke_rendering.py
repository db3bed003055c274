"""``deployments.rendering``: an invoke's messages and parameters, and a router body naming
``deployment/<key>`` turned into the deployment's chat request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from relaygate.deployments.config import Release, release_of
from relaygate.deployments.rendering import invoke_messages, invoke_parameters, through_deployment
from relaygate.deployments.template import MissingVariables
from relaygate.errors import InvalidRequest

TEMPLATE = [
    {"role": "system", "content": "Talk about {{product}}."},
    {"role": "developer", "content": "Be brief."},
    {"role": "user", "content": "{{question}}"},
    {"role": "assistant", "content": "Noted."},
]
INPUTS = {"product": "relaygate", "question": "Why?"}


def _release(**content: Any) -> Release:
    stored = {"model": "fake/gpt-test", "messages": TEMPLATE, "parameters": {"temperature": 0.2}, **content}
    return release_of("d1", "w1", "support", 3, "v3", stored, datetime.now(UTC))


def test_prefix_messages_go_after_the_leading_instructions_and_messages_last() -> None:
    variant = _release().default
    prefix = [{"role": "user", "content": "Earlier"}]
    last = [{"role": "user", "content": "Now"}]

    rendered = invoke_messages(variant, INPUTS, prefix, last)

    assert [message["content"] for message in rendered] == [
        "Talk about relaygate.",
        "Be brief.",
        "Earlier",
        "Why?",
        "Noted.",
        "Now",
    ]


def test_a_template_without_instructions_gets_the_prefix_first() -> None:
    variant = _release(messages=[{"role": "user", "content": "Hi"}]).default
    rendered = invoke_messages(variant, {}, [{"role": "assistant", "content": "Before"}], [])
    assert [message["content"] for message in rendered] == ["Before", "Hi"]


def test_a_missing_variable_names_every_one_missing() -> None:
    with pytest.raises(MissingVariables) as refused:
        invoke_messages(_release().default, {}, [], [])
    assert refused.value.names == ("product", "question")


def test_extra_params_are_laid_over_the_variants_parameters() -> None:
    variant = _release(variants=[{"context": {"tier": "pro"}, "parameters": {"top_p": 0.3}}]).variant_for(
        {"tier": "pro"}
    )
    assert invoke_parameters(variant, {"temperature": 0.9}) == {"temperature": 0.9, "top_p": 0.3}


def test_a_router_body_gets_the_template_before_its_messages_and_keeps_its_own_parameters() -> None:
    release = _release(parameters={"temperature": 0.2, "max_tokens": 10})
    body: dict[str, Any] = {
        "model": "deployment/support",
        "messages": [{"role": "user", "content": "Mine"}],
        "temperature": 0.8,
        "inputs": INPUTS,
    }

    variant = through_deployment(release, body)

    assert variant.name == "default"
    assert body["model"] == "fake/gpt-test"
    assert [message["content"] for message in body["messages"]][-2:] == ["Noted.", "Mine"]
    assert (body["temperature"], body["max_tokens"]) == (0.8, 10)
    assert "inputs" not in body


def test_inputs_and_context_may_come_under_orq_and_are_taken_out_of_it() -> None:
    release = _release(variants=[{"name": "beta", "context": {"env": "beta"}, "model": "fake/other"}])
    body: dict[str, Any] = {
        "messages": [],
        "orq": {"inputs": INPUTS, "context": {"env": "beta"}, "retry": {}},
    }

    variant = through_deployment(release, body)

    assert (variant.name, body["model"]) == ("beta", "fake/other")
    assert body["orq"] == {"retry": {}}  # routing fields stay for extract_routing
    assert body["messages"][0]["content"] == "Talk about relaygate."


@pytest.mark.parametrize("field", ["inputs", "context"])
def test_inputs_and_context_must_be_objects(field: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        through_deployment(_release(), {"messages": [], field: "text"})
    assert refused.value.param == field
