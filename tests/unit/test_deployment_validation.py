"""In-process tests of a deployment's validation: what is stored, and every 400's param."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.deployments import validation
from relaygate.deployments.config import variants_of
from relaygate.errors import InvalidRequest

MODELS = {"a/chat": "chat", "b/chat": "chat", "e/embed": "embedding", "c/complete": "completion"}
MESSAGES = [{"role": "user", "content": "{{q}}"}]


def fields(**extra: Any) -> dict[str, Any]:
    return {"model": "a/chat", "messages": MESSAGES, **extra}


def refusal(body: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        validation.created(body, MODELS)
    return raised.value


def test_the_stored_content_has_its_defaults_filled() -> None:
    key, content = validation.created({"key": "k", **fields()}, MODELS)
    assert key == "k"
    assert content == {
        "display_name": "k",
        "description": "",
        "model": "a/chat",
        "messages": MESSAGES,
        "parameters": {},
        "variants": [],
        "fallbacks": [],
    }


def test_a_blank_display_name_falls_back_to_the_key() -> None:
    _, content = validation.created({"key": "k", "display_name": "  ", **fields()}, MODELS)
    assert content["display_name"] == "k"


def test_variants_get_their_names_and_keep_only_what_they_replace() -> None:
    variants = [
        {"context": {"env": "prod"}},
        {"name": "eu", "context": {"region": ["eu", "uk"]}, "model": "b/chat", "parameters": {"seed": 1}},
    ]
    _, content = validation.created({"key": "k", **fields(variants=variants, parameters={"seed": 0})}, MODELS)
    assert content["variants"] == [
        {"name": "variant-1", "context": {"env": "prod"}},
        {"name": "eu", "context": {"region": ["eu", "uk"]}, "model": "b/chat", "parameters": {"seed": 1}},
    ]
    default, declared = variants_of(content)
    assert (default.model, declared[0].model, declared[1].model) == ("a/chat", "a/chat", "b/chat")
    assert declared[1].parameters == {"seed": 1}


def test_policy_is_normalised_the_way_the_router_reads_it() -> None:
    _, content = validation.created(
        {"key": "k", **fields(cache={"type": "exact"}, retry={"count": 1}, timeout={"call_timeout": 5})},
        MODELS,
    )
    assert content["cache"] == {"type": "exact_match", "ttl": 1800}
    assert content["retry"] == {"count": 1}
    assert content["timeout"] == {"call_timeout": 5}


def test_null_and_empty_policy_mean_none() -> None:
    _, content = validation.created({"key": "k", **fields(retry=None, fallbacks=[], variants=None)}, MODELS)
    assert "retry" not in content
    assert (content["fallbacks"], content["variants"]) == ([], [])


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"key": "a/b", **fields()}, "key", "invalid_deployment"),
        ({**fields()}, "key", "invalid_deployment"),
        ({"key": "k", "messages": MESSAGES}, "model", "missing_field"),
        ({"key": "k", **fields(model="c/complete")}, "model", "wrong_model_type"),
        ({"key": "k", **fields(model=7)}, "model", "invalid_deployment"),
        ({"key": "k", **fields(fallbacks=[{"model": "e/embed"}])}, "fallbacks[0].model", "wrong_model_type"),
        (
            {"key": "k", **fields(fallbacks=[{"model": "b/chat", "weight": 1}])},
            "fallbacks[0].weight",
            "unknown_field",
        ),
        ({"key": "k", **fields(fallbacks={"model": "b/chat"})}, "fallbacks", "invalid_routing"),
        (
            {"key": "k", **fields(variants=[{"context": {"a": 1}, "prompt": "x"}])},
            "variants[0].prompt",
            "unknown_field",
        ),
        (
            {"key": "k", **fields(variants=[{"context": {"a": []}}])},
            "variants[0].context.a",
            "invalid_deployment",
        ),
        (
            {"key": "k", **fields(variants=[{"context": {"a": 1}, "name": "bad name"}])},
            "variants[0].name",
            "invalid_deployment",
        ),
        ({"key": "k", **fields(retry={"count": 1, "backoff": 2})}, "retry.backoff", "unknown_field"),
        ({"key": "k", **fields(cache={"type": ["exact"]})}, "cache.type", "invalid_routing"),
        ({"key": "k", **fields(description=3)}, "description", "invalid_deployment"),
        ({"key": "k", **fields(display_name="x" * 129)}, "display_name", "invalid_deployment"),
        ({"key": "k", "guardrails": [], **fields()}, "guardrails", "unsupported_field"),
        ({"key": "k", "tools": [], **fields()}, "tools", "unsupported_field"),
    ],
)
def test_each_refusal_names_its_field(body: dict[str, Any], param: str, code: str) -> None:
    error = refusal(body)
    assert (error.param, error.code) == (param, code)
    assert error.status == 400


def test_an_unknown_field_lists_every_unknown_one_and_what_is_known() -> None:
    error = refusal({"key": "k", "colour": 1, "size": 2, **fields()})
    assert error.param == "colour"
    assert "'colour', 'size'" in error.message
    assert "display_name" in error.message


def test_changed_replaces_the_given_fields_of_the_current_content() -> None:
    _, current = validation.created(
        {"key": "k", **fields(parameters={"seed": 1}, retry={"count": 2})}, MODELS
    )
    content = validation.changed(current, {"model": "b/chat", "retry": None}, "k", MODELS)
    assert content["model"] == "b/chat"
    assert content["parameters"] == {"seed": 1}
    assert "retry" not in content
    assert validation.changed(current, {}, "k", MODELS) == current
    assert validation.changed(current, {"key": "k"}, "k", MODELS) == current


def test_changed_refuses_a_new_key() -> None:
    with pytest.raises(InvalidRequest) as raised:
        validation.changed({}, {"key": "other"}, "k", MODELS)
    assert (raised.value.param, raised.value.code) == ("key", "key_immutable")


def test_normalising_stored_content_again_changes_nothing() -> None:
    body = {
        "key": "k",
        **fields(
            variants=[{"context": {"a": 1}}],
            cache={"type": "exact", "ttl": 9},
            fallbacks=[{"model": "b/chat"}],
        ),
    }
    _, content = validation.created(body, MODELS)
    assert validation.normalise(content, "k", MODELS) == content


@pytest.mark.parametrize("key", ["a", "A.b_c-1", "0" * 128])
def test_keys_within_the_rules(key: str) -> None:
    assert validation.check_key(key) == key


@pytest.mark.parametrize("key", ["", " ", "_a", ".a", "a b", "a/b", "ä", "0" * 129, None])
def test_keys_outside_the_rules(key: Any) -> None:
    with pytest.raises(InvalidRequest) as raised:
        validation.check_key(key)
    assert raised.value.param == "key"
