"""In-process tests of the LLM judge: its prompt filled in one pass, the call it makes
(structured output when its model enforces schemas), and the strict reading of its answer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from relaygate.evaluators import judge
from relaygate.evaluators.config import parse_definition
from relaygate.evaluators.score import Sample, Score

PROMPT = "Q: {{input}} A: {{ output }} Ref: {{expected}}"
NUMBER = parse_definition(
    {"type": "llm_eval", "key": "k", "model": "p/j", "prompt": PROMPT, "output_type": "number",
     "min": 1, "max": 5, "threshold": 4}
).content["config"]  # fmt: skip
BOOLEAN = parse_definition(
    {"type": "llm_eval", "key": "k", "model": "p/j", "prompt": "Is {{output}} polite?"}
).content["config"]


def answer(content: Any, **message: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content, **message}}]}


def test_the_prompt_is_filled_once_and_values_are_never_rendered_again() -> None:
    sample = Sample({"q": "2+2?"}, "{{expected}} is 4", "4")
    assert judge.render(NUMBER["prompt"], sample) == 'Q: {"q":"2+2?"} A: {{expected}} is 4 Ref: 4'


def test_a_prompt_that_never_shows_the_output_gets_the_sample_appended() -> None:
    rendered = judge.render("Rate the tone 1-5", Sample("Hi", "Hello there", None))
    assert rendered == "Rate the tone 1-5\n\nInput:\nHi\n\nOutput:\nHello there"


def test_structured_output_is_asked_only_of_a_model_that_enforces_schemas() -> None:
    sample = Sample("q", "a", "r")
    structured = judge.request_body(NUMBER, sample, structured=True)
    schema = structured["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert schema["schema"]["required"] == ["score", "reason"]
    assert structured["messages"][1] == {"role": "user", "content": "Q: q A: a Ref: r"}
    assert structured["temperature"] == 0
    plain = judge.request_body(BOOLEAN, sample, structured=False)
    assert "response_format" not in plain
    assert '{"passed": <true or false>, "reason": "<why, briefly>"}' in plain["messages"][0]["content"]


@pytest.mark.parametrize(
    ("config", "content", "expected"),
    [
        (NUMBER, '{"score": 4.5, "reason": "Clear."}', Score(4.5, True, "Clear.")),
        (NUMBER, '{"score": 2, "reason": "Vague."}', Score(2.0, False, "Vague.")),
        (NUMBER, '```json\n{"score": 5, "reason": "ok"}\n```', Score(5.0, True, "ok")),
        (BOOLEAN, ' {"passed": false, "reason": "Rude."} ', Score(0.0, False, "Rude.")),
    ],
)
def test_a_judges_answer_is_read_strictly(config: dict[str, Any], content: str, expected: Score) -> None:
    assert judge.read_answer(config, answer(content)) == expected


@pytest.mark.parametrize(
    ("config", "reply", "says"),
    [
        (NUMBER, answer("The score is 4."), "not a JSON object"),
        (NUMBER, answer('Sure! {"score": 4, "reason": "x"}'), "not a JSON object"),
        (NUMBER, answer('{"score": 7, "reason": "x"}'), "not a number from 1 to 5"),
        (NUMBER, answer('{"score": "4", "reason": "x"}'), "not a number from 1 to 5"),
        (NUMBER, answer('{"score": 4}'), "exactly 'score' and 'reason'"),
        (NUMBER, answer('{"score": 4, "reason": "x", "confidence": 1}'), "exactly 'score' and 'reason'"),
        (BOOLEAN, answer('{"passed": "yes", "reason": "x"}'), "'passed' is not true or false"),
        (BOOLEAN, answer('{"passed": true, "reason": 3}'), "'reason' is not a string"),
        (BOOLEAN, answer(None, refusal="I cannot judge this."), "refused: I cannot judge this."),
        (BOOLEAN, answer(""), "has no text"),
        (BOOLEAN, {"choices": []}, "has no message"),
    ],
)
def test_an_answer_that_is_not_as_asked_is_an_error_not_a_score(
    config: dict[str, Any], reply: dict[str, Any], says: str
) -> None:
    with pytest.raises(judge.JudgeAnswerError, match=says):
        judge.read_answer(config, reply)


def test_the_answer_schema_is_what_the_strict_reader_accepts() -> None:
    schema = judge.request_body(NUMBER, Sample("q", "a"), structured=True)["response_format"]["json_schema"][
        "schema"
    ]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(orjson.loads('{"score": 3, "reason": "x"}'))
