"""In-process tests of a stored version as the data plane serves it: variants, the one a
context gets, the models a release may call and the variables it needs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from relaygate.deployments.config import DEFAULT_VARIANT, Release, release_of, required_variables, variants_of

CONTENT: dict[str, Any] = {
    "display_name": "Support",
    "model": "a/chat",
    "messages": [{"role": "user", "content": "{{q}}"}],
    "parameters": {"temperature": 0.1, "seed": 1},
    "variants": [
        {"name": "prod", "context": {"env": "production"}, "model": "b/chat"},
        {
            "name": "prod-eu",
            "context": {"env": "production", "region": ["eu", "uk"]},
            "messages": [{"role": "user", "content": "{{q}} in {{language}}"}],
            "parameters": {"temperature": 0.7},
        },
        {"context": {"beta": True}},
    ],
    "fallbacks": [{"model": "c/chat"}, {"model": "b/chat"}],
    "retry": {"count": 2},
    "cache": None,
}


def release(content: dict[str, Any] = CONTENT) -> Release:
    return release_of("d1", "w1", "support", 4, "v4", content, datetime(2026, 1, 1, tzinfo=UTC))


def test_variants_take_the_defaults_they_leave_out() -> None:
    default, (prod, eu, beta) = variants_of(CONTENT)
    assert (default.name, default.context, default.model) == (DEFAULT_VARIANT, {}, "a/chat")
    assert (prod.model, prod.messages, prod.parameters) == ("b/chat", default.messages, default.parameters)
    assert (eu.model, eu.parameters) == ("a/chat", {"temperature": 0.7, "seed": 1})
    assert eu.variables == ("q", "language")
    assert beta.name == "variant-3"


def test_the_most_specific_matching_variant_serves_a_context() -> None:
    served = release()
    assert served.variant_for(None).name == DEFAULT_VARIANT
    assert served.variant_for({}).name == DEFAULT_VARIANT
    assert served.variant_for({"env": "staging"}).name == DEFAULT_VARIANT
    assert served.variant_for({"env": "production"}).name == "prod"
    assert served.variant_for({"env": "production", "region": "uk"}).name == "prod-eu"
    assert served.variant_for({"env": ["test", "production"], "region": "us"}).name == "prod"
    assert served.variant_for({"beta": True, "env": "production"}).name == "prod"  # first of equal rank
    assert served.variant_for({"beta": True}).name == "variant-3"
    assert served.variant_for({"env": None}).name == DEFAULT_VARIANT


def test_a_release_names_its_models_once_and_its_routing() -> None:
    served = release()
    assert served.models == ("a/chat", "b/chat", "c/chat")
    assert served.routing == {"fallbacks": CONTENT["fallbacks"], "retry": {"count": 2}}
    assert (served.display_name, served.description, served.version) == ("Support", "", 4)


def test_required_variables_cover_every_variant() -> None:
    assert required_variables(CONTENT) == ["q", "language"]
    assert required_variables({"model": "a/chat", "messages": []}) == []


def test_a_release_without_variants_serves_its_default_to_every_context() -> None:
    plain = release({"model": "a/chat", "messages": []})
    assert plain.variant_for({"env": "production"}).name == DEFAULT_VARIANT
    assert plain.display_name == "support"
    assert plain.routing == {}
