"""The strict-schema contract: what is taken out of a body, and what in an answer breaks it."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.catalog import RoutableModel
from relaygate.errors import InvalidRequest
from relaygate.router.strict_schemas import StrictContract, compile_schema, strict_contract, unstream

from support.models import routable_model

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}


def model(strict_mode: str = "emulate", **capabilities: bool) -> RoutableModel:
    return routable_model(
        capabilities={"supports_tool_calling": True, **capabilities}, strict_mode=strict_mode
    )


def body(strict: bool = True) -> dict[str, Any]:
    function = {"name": "where", "parameters": SCHEMA, **({"strict": True} if strict else {})}
    return {"model": "fake/gpt-test", "messages": [], "tools": [{"type": "function", "function": function}]}


def answer(*messages: dict[str, Any], finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "choices": [
            {"index": index, "message": message, "finish_reason": finish_reason}
            for index, message in enumerate(messages)
        ]
    }


def called(arguments: str, name: str = "where") -> dict[str, Any]:
    return {
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": name, "arguments": arguments}}]
    }


def contract(request: dict[str, Any]) -> StrictContract:
    found = strict_contract(model(), request)
    assert found is not None
    return found


def test_strict_is_taken_out_and_the_schema_kept() -> None:
    request = body()
    contract(request)
    assert request["tools"][0]["function"] == {"name": "where", "parameters": SCHEMA}


def test_nothing_to_check_without_strict_or_with_a_strict_model() -> None:
    assert strict_contract(model(), body(strict=False)) is None
    request = body()
    assert strict_contract(model(supports_strict_tool=True), request) is None
    assert request["tools"][0]["function"]["strict"] is True


def test_reject_mode_refuses() -> None:
    with pytest.raises(InvalidRequest) as caught:
        strict_contract(model("reject"), body())
    assert caught.value.code == "capability_not_supported"


def test_tool_arguments_are_checked() -> None:
    checks = contract(body())
    assert checks.check(answer(called('{"city": "Paris"}'))) is None
    problem = checks.check(answer(called('{"city": 7}')))
    assert problem is not None
    assert "tool 'where'" in problem
    assert "'/city'" in problem
    assert "not valid JSON" in (checks.check(answer(called("{"))) or "")
    assert checks.check(answer(called('{"any": 1}', name="not_strict"))) is None


def test_every_choice_is_checked_but_cut_off_ones() -> None:
    checks = contract(body())
    assert checks.check(answer(called('{"city": "a"}'), called("{}"))) is not None
    assert checks.check(answer(called("{}"), finish_reason="length")) is None


def test_a_json_schema_answer_is_checked_unless_refused_or_a_tool_call() -> None:
    request: dict[str, Any] = {
        "messages": [],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "n", "schema": SCHEMA, "strict": True},
        },
    }
    checks = contract(request)
    assert "strict" not in request["response_format"]["json_schema"]
    assert checks.check(answer({"content": '{"city": "Paris"}'})) is None
    assert checks.check(answer({"content": '{"town": "Paris"}'})) is not None
    assert checks.check(answer({"content": None})) == "the answer is missing"
    assert checks.check(answer({"content": None, "refusal": "I cannot."})) is None


def test_a_schema_that_is_not_one_is_a_400_and_no_url_is_fetched() -> None:
    with pytest.raises(InvalidRequest) as caught:
        compile_schema({"type": "nonsense"}, "tools[0].function.parameters")
    assert caught.value.param == "tools[0].function.parameters"
    with pytest.raises(InvalidRequest) as remote:
        compile_schema({"$ref": "http://169.254.169.254/latest/meta-data"}, "p")
    assert "disabled" in remote.value.message
    with pytest.raises(InvalidRequest):
        compile_schema("{}", "p")


def test_a_stream_is_asked_for_whole() -> None:
    request = {"stream": True, "stream_options": {"include_usage": True}}
    unstream(request)
    assert request == {"stream": False}
