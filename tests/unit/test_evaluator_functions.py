"""In-process tests of the kinds relaygate scores without a model: each one's exact score,
and its configuration refused field by field."""

from __future__ import annotations

import time
from typing import Any

import pytest

from relaygate.evaluators.config import parse_definition
from relaygate.evaluators.fields import InvalidEvaluator
from relaygate.evaluators.functions import FUNCTIONS, json_schema_score
from relaygate.evaluators.score import Sample, Score


def score(params: dict[str, Any], output: str, expected: str | None = None) -> Score:
    definition = parse_definition({"type": "function_eval", "key": "k", "function_params": params})
    kind = definition.content["kind"]
    return FUNCTIONS[kind].score(definition.content["config"], Sample("question", output, expected))


@pytest.mark.parametrize(
    ("params", "output", "expected", "passed"),
    [
        ({"type": "exact_match"}, "Paris", "Paris", True),
        ({"type": "exact_match"}, "paris", "Paris", False),
        ({"type": "exact_match", "ignore_case": True}, "paris", "PARIS", True),
        ({"type": "exact_match", "normalize_whitespace": True}, " Paris \n is  big", "Paris is big", True),
        ({"type": "exact_match"}, " Paris", "Paris", False),
        ({"type": "contains", "value": "refund"}, "We refund in 30 days", None, True),
        ({"type": "contains_any", "keywords": ["refund", "return"]}, "Returns are free", None, False),
        (
            {"type": "contains_any", "keywords": ["refund", "return"], "ignore_case": True},
            "Returns",
            None,
            True,
        ),
        ({"type": "contains_all", "keywords": ["30", "days"]}, "within 30 days", None, True),
        ({"type": "regex", "pattern": "^[0-9]{3}-[0-9]{4}$"}, "555-1234", None, True),
        ({"type": "regex", "pattern": "(?i)order #\\d+"}, "Your ORDER #42 shipped", None, True),
        ({"type": "regex", "pattern": "^\\d+$"}, "12a", None, False),
        ({"type": "is_valid_json"}, '{"a": [1, 2]}', None, True),
        ({"type": "is_valid_json"}, "{'a': 1}", None, False),
        ({"type": "length_between", "min": 2, "max": 5}, "abcde", None, True),
        ({"type": "length_between", "min": 2, "max": 5}, "abcdef", None, False),
    ],
)
def test_each_pure_kind_scores_exactly(
    params: dict[str, Any], output: str, expected: str | None, passed: bool
) -> None:
    result = score(params, output, expected)
    assert (result.value, result.passed, result.error) == (1.0 if passed else 0.0, passed, None)


def test_failing_scores_say_why() -> None:
    assert score({"type": "contains_all", "keywords": ["a", "zz", "yy"]}, "abc").reason == "Missing: zz, yy."
    assert score({"type": "length_between", "min": 0, "max": 2}, "abc").reason == (
        "3 characters; the bounds are 0 to 2."
    )
    assert "not JSON" in (score({"type": "is_valid_json"}, "{").reason or "")


def test_a_json_schema_evaluator_names_where_the_output_breaks_it() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    definition = parse_definition(
        {
            "type": "json_schema",
            "key": "k",
            "schema": '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}',
        }
    )
    assert definition.content["config"] == {"schema": schema}
    config = definition.content["config"]
    assert json_schema_score(config, Sample(None, '{"n": 3}')) == Score(1.0, True)
    broken = json_schema_score(config, Sample(None, '{"n": "3"}'))
    assert (broken.value, broken.passed) == (0.0, False)
    assert (broken.reason or "").startswith("At '/n': ")
    assert "not JSON" in (json_schema_score(config, Sample(None, "n=3")).reason or "")


def test_a_hostile_pattern_runs_in_linear_time() -> None:
    started = time.perf_counter()
    result = score({"type": "regex", "pattern": "^(a+)+$"}, "a" * 100_000 + "b")
    assert result.passed is False
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("params", "param", "says"),
    [
        ({"type": "regex", "pattern": "(unclosed"}, "function_params.pattern", "linear-time regex engine"),
        ({"type": "regex", "pattern": "(?<=a)b"}, "function_params.pattern", "lookaround"),
        ({"type": "regex"}, "function_params.pattern", "must be a string"),
        ({"type": "contains_any", "keywords": []}, "function_params.keywords", "non-empty list"),
        ({"type": "contains_all", "keywords": ["a", ""]}, "function_params.keywords[1]", "1 to 1024"),
        ({"type": "length_between", "min": 5, "max": 2}, "function_params.max", "at least min (5)"),
        ({"type": "length_between", "min": 1.5, "max": 2}, "function_params.min", "whole number"),
        ({"type": "exact_match", "ignore_case": "yes"}, "function_params.ignore_case", "true or false"),
        ({"type": "exact_match", "case": True}, "function_params.case", "the fields are"),
        ({"type": "bleu_score"}, "function_params.type", "relaygate's function evaluators are exact_match"),
    ],
)
def test_a_bad_configuration_is_a_400_naming_the_field(params: dict[str, Any], param: str, says: str) -> None:
    with pytest.raises(InvalidEvaluator) as refused:
        parse_definition({"type": "function_eval", "key": "k", "function_params": params})
    assert refused.value.param == param
    assert says in refused.value.message


def test_a_schema_that_is_not_one_is_refused_at_creation() -> None:
    for schema, says in (
        ('{"type": "nope"}', "is not a valid JSON schema"),
        ("{", "is not JSON"),
        ("3", "must be a JSON schema"),
    ):
        with pytest.raises(InvalidEvaluator, match=says) as refused:
            parse_definition({"type": "json_schema", "key": "k", "schema": schema})
        assert refused.value.param == "schema"
    with pytest.raises(InvalidEvaluator, match="not present in a registry"):
        parse_definition(
            {"type": "json_schema", "key": "k", "schema": {"$ref": "https://example.com/s.json"}}
        )
