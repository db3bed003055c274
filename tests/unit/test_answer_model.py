"""The router id replaces the upstream's model id in a unary answer, and only there."""

from __future__ import annotations

import json

import orjson

from relaygate.router.relay import with_router_id


def rewritten(body: bytes) -> dict[str, object]:
    return dict(json.loads(with_router_id(body, orjson.loads(body), "p/up-1")))


def test_compact_answer_gets_the_router_id_and_keeps_everything_else_byte_for_byte() -> None:
    body = b'{"id":"x","model":"up-1","choices":[{"message":{"content":"say \\"model\\":\\"up-1\\""}}]}'
    out = with_router_id(body, orjson.loads(body), "p/up-1")
    assert out == body.replace(b'"model":"up-1"', b'"model":"p/up-1"', 1)
    assert json.loads(out)["choices"][0]["message"]["content"] == 'say "model":"up-1"'


def test_a_nested_model_field_with_the_same_value_is_left_alone() -> None:
    body = b'{"model":"up-1","tool":{"model":"up-1"}}'
    assert rewritten(body) == {"model": "p/up-1", "tool": {"model": "up-1"}}


def test_spaced_json_and_other_values() -> None:
    assert rewritten(b'{"model": "up-1", "x": {"model":"up-1"}}') == {
        "model": "p/up-1",
        "x": {"model": "up-1"},
    }
    assert rewritten(b'{"model":"up-1-2024-08-06"}') == {"model": "p/up-1"}
    assert rewritten(b'{"model":null}') == {"model": "p/up-1"}
