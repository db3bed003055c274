"""Routing fields of an upload's form, rebuilt as the JSON body would have carried them."""

from __future__ import annotations

from typing import Any

import pytest
from openai._qs import Querystring

from relaygate.errors import InvalidRequest
from relaygate.router.call import extract_routing
from relaygate.router.form_routing import is_routing_field, routing_object

ROUTING: dict[str, Any] = {
    "retry": {"count": 2, "on_codes": [429, 503]},
    "fallbacks": [{"model": "a/x"}, {"model": "b/y"}],
    "load_balancer": {
        "type": "weight_based",
        "models": [{"model": "a/x", "weight": 0.7}, {"model": "b/y", "weight": 3}],
    },
    "timeout": {"call_timeout": 500},
    "cache": {"type": "exact_match", "ttl": 60},
    "identity": {"id": "7", "metadata": {"count": "5"}},
    "thread": {"id": "t-1", "tags": ["a", "b"]},
    "metadata": {"weight": "12"},
    "name": "42",
}


def test_what_the_openai_sdk_sends_for_extra_body_comes_back_whole() -> None:
    """The SDK flattens an upload's extra_body with its own query-string encoder."""
    fields = Querystring().stringify_items(ROUTING, array_format="brackets")
    assert all(is_routing_field(name) for name, _ in fields)
    assert routing_object(fields) == ROUTING


def test_json_text_in_one_field_and_the_older_orq_nesting() -> None:
    fields = [("fallbacks", '[{"model": "a/x"}]'), ("orq[retries][count]", "1")]
    assert extract_routing(routing_object(fields)) == {"fallbacks": [{"model": "a/x"}], "retry": {"count": 1}}
    assert not is_routing_field("model")
    assert not is_routing_field("temperature")


@pytest.mark.parametrize(
    "fields",
    [
        [("retry[count]", "1"), ("retry[count][x]", "1")],
        [("fallbacks[]", "a"), ("fallbacks[model]", "b")],
        [("retry[count", "1")],
        [("fallbacks", "[not json")],
    ],
)
def test_malformed_fields_are_a_400(fields: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidRequest):
        routing_object(fields)
