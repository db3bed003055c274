"""In-process tests of evaluator definitions: the SDK types each kind is written as, what is
refused (code-running types, judge features relaygate lacks), updates laid over the stored
definition, and HTTP headers never shown back."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.evaluators.config import parse_definition, updated_definition
from relaygate.evaluators.fields import InvalidEvaluator
from relaygate.evaluators.http_eval import HttpEvalError, read_reply
from relaygate.evaluators.kinds import SDK_TYPE
from relaygate.evaluators.score import Score
from relaygate.evaluators.shapes import sdk_fields
from relaygate.evaluators.similarity import EmbeddingAnswerError, cosine
from relaygate.evaluators.similarity import read_answer as similarity_answer

JUDGE = {"type": "llm_eval", "key": "tone", "mode": "single", "model": "p/judge", "prompt": "Rate {{output}}"}
HTTP = {
    "type": "http_eval",
    "key": "remote",
    "url": "https://scorer.example/score",
    "headers": {"Authorization": "Bearer sk-secret-123456"},
}
DEFINITIONS: list[dict[str, Any]] = [
    {"type": "function_eval", "key": "a", "function_params": {"type": "exact_match", "ignore_case": True}},
    {"type": "function_eval", "key": "b", "function_params": {"type": "contains_all", "keywords": ["x"]}},
    {"type": "function_eval", "key": "c", "function_params": {"type": "regex", "pattern": "x+"}},
    {"type": "function_eval", "key": "d", "function_params": {"type": "is_valid_json"}},
    {"type": "function_eval", "key": "e", "function_params": {"type": "length_between", "min": 1, "max": 9}},
    {
        "type": "function_eval",
        "key": "f",
        "function_params": {"type": "cosine_similarity", "model": "p/emb", "threshold": 0.8},
    },
    {"type": "json_schema", "key": "g", "schema": {"type": "object"}},
    {**JUDGE, "output_type": "number", "min": 0, "max": 10, "threshold": 7},
    HTTP,
]


@pytest.mark.parametrize("body", DEFINITIONS, ids=lambda body: str(body["key"]))
def test_every_kind_reads_back_as_the_sdk_type_it_was_written_as(body: dict[str, Any]) -> None:
    definition = parse_definition(body)
    shaped = sdk_fields(definition.content)
    assert shaped["type"] == body["type"] == SDK_TYPE[definition.content["kind"]]
    # a round trip: what is shown, sent back as an update (masked header values keep theirs)
    assert updated_definition(definition.key, definition.content, shaped) == definition


def test_output_types_follow_the_kind() -> None:
    assert parse_definition(DEFINITIONS[0]).content["output_type"] == "boolean"
    assert parse_definition(DEFINITIONS[5]).content["output_type"] == "number"
    assert parse_definition(JUDGE).content["output_type"] == "boolean"
    assert parse_definition({**JUDGE, "output_type": "number"}).content["config"] == {
        "model": "p/judge",
        "prompt": "Rate {{output}}",
        "min": 1.0,
        "max": 5.0,
        "threshold": None,
    }
    with pytest.raises(InvalidEvaluator, match="is boolean for a exact_match evaluator") as refused:
        parse_definition({**DEFINITIONS[0], "output_type": "number"})
    assert refused.value.param == "output_type"


@pytest.mark.parametrize("kind", ["python_eval", "typescript_eval", "ragas"])
def test_types_that_run_code_are_refused_with_the_way_out(kind: str) -> None:
    with pytest.raises(InvalidEvaluator) as refused:
        parse_definition({"type": kind, "key": "k", "code": "def evaluate(log): return True"})
    assert refused.value.code == "unsupported_evaluator_type"
    assert "runs no user code in its process" in refused.value.message
    assert "http_eval" in refused.value.message


@pytest.mark.parametrize(
    ("body", "param", "says"),
    [
        ({**JUDGE, "mode": "jury", "jury": {"judges": [{"model": "a"}]}}, "mode", "must be 'single'"),
        ({**JUDGE, "categories": ["good", "bad"]}, "categories", "categorical output"),
        ({**JUDGE, "repetitions": 3}, "repetitions", "asks its judge once"),
        ({**JUDGE, "prompt": "Is {{answer}} right?"}, "prompt", "uses {{answer}}"),
        ({**JUDGE, "output_type": "categorical"}, "output_type", "boolean, number"),
        ({**JUDGE, "output_type": "boolean", "min": 1}, "min", "output_type is number"),
        ({**JUDGE, "output_type": "number", "min": 5, "max": 5}, "max", "above min"),
        ({**JUDGE, "output_type": "number", "threshold": 9}, "threshold", "from 1 to 5"),
        ({**HTTP, "method": "GET"}, "method", "POST"),
        ({**HTTP, "headers": {"Host": "x"}}, "headers.Host", "not a header relaygate sends"),
        ({**HTTP, "headers": {"X-A": "a\r\nb"}}, "headers.X-A", "one line"),
        ({**HTTP, "timeout_ms": 10}, "timeout_ms", "100 to 120000"),
        ({**HTTP, "guardrail_config": {"enabled": True}}, "guardrail_config", "no guardrails"),
        ({**HTTP, "key": "has space"}, "key", "letters, digits"),
        ({"type": "bedrock_eval", "key": "k"}, "type", "must be one of function_eval"),
        ({**HTTP, "prompt": "x"}, "prompt", "is not a field here"),
    ],
)
def test_a_bad_definition_is_a_400_naming_the_field(body: dict[str, Any], param: str, says: str) -> None:
    with pytest.raises(InvalidEvaluator) as refused:
        parse_definition(body)
    assert refused.value.param == param
    assert says in refused.value.message


def test_an_update_is_laid_over_the_stored_definition() -> None:
    stored = parse_definition({**JUDGE, "output_type": "number", "min": 0, "max": 10})
    cheaper = updated_definition(
        stored.key, stored.content, {"model": "p/cheap", "versionDescription": "cheaper"}
    )
    assert cheaper.content["config"] == {**stored.content["config"], "model": "p/cheap"}
    boolean = updated_definition(stored.key, stored.content, {"output_type": "boolean"})
    assert boolean.content["config"] == {"model": "p/judge", "prompt": "Rate {{output}}"}
    renamed = updated_definition(stored.key, stored.content, {"key": "tone-2", "description": "d"})
    assert (renamed.key, renamed.content["description"]) == ("tone-2", "d")
    retyped = updated_definition(
        stored.key, stored.content, {"type": "function_eval", "function_params": {"type": "is_valid_json"}}
    )
    assert (retyped.key, retyped.content["kind"]) == ("tone", "json_valid")


def test_header_values_are_never_shown_and_kept_when_sent_back_masked() -> None:
    stored = parse_definition(HTTP)
    shown = sdk_fields(stored.content)
    assert shown["headers"] == {"Authorization": "Bea…3456"}
    assert "sk-secret" not in str(shown)
    same = updated_definition(stored.key, stored.content, {"headers": shown["headers"], "timeout_ms": 500})
    assert same.content["config"]["headers"] == {"Authorization": "Bearer sk-secret-123456"}
    changed = updated_definition(
        stored.key, stored.content, {"headers": {"Authorization": "Bearer new-key-999"}}
    )
    assert changed.content["config"]["headers"] == {"Authorization": "Bearer new-key-999"}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b'{"score": 0.75}', Score(0.75, None, None)),
        (b'{"score": 3, "passed": true, "reason": "fine"}', Score(3.0, True, "fine")),
        (b'{"score": false, "reason": "no"}', Score(0.0, False, "no")),
    ],
)
def test_a_remote_scorers_reply_is_read(reply: bytes, expected: Score) -> None:
    assert read_reply(reply) == expected


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (b"<html>", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"value": 1}', "no 'score'"),
        (b'{"score": 1, "passed": "y"}', "'passed'"),
    ],
)
def test_a_remote_scorers_bad_reply_is_an_error(reply: bytes, says: str) -> None:
    with pytest.raises(HttpEvalError, match=says):
        read_reply(reply)


def test_cosine_similarity_of_known_vectors() -> None:
    assert cosine([1.0, 0.0], [0.6, 0.8]) == pytest.approx(0.6)
    assert cosine([1.0, 2.0], [-1.0, -2.0]) == pytest.approx(-1.0)
    assert cosine([0.0, 0.0], [1.0, 1.0]) == 0.0
    config = {"model": "e", "threshold": 0.5}
    answer = {"data": [{"index": 1, "embedding": [0.6, 0.8]}, {"index": 0, "embedding": [1, 0]}]}
    similar = similarity_answer(config, answer)
    assert similar.value == pytest.approx(0.6)
    assert (similar.passed, similar.reason) == (True, "Cosine similarity 0.6000.")
    with pytest.raises(EmbeddingAnswerError, match="two embeddings"):
        similarity_answer(config, {"data": [{"embedding": [1]}]})
