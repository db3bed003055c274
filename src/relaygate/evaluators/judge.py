"""An LLM as judge: its configuration, the call it makes, and the strict reading of its answer.

The prompt is the admin's template over ``{{input}}``, ``{{output}}`` and ``{{expected}}``,
filled in one pass (a value that itself contains ``{{output}}`` stays as written); a
prompt without ``{{output}}`` gets the sample appended, so a judge made by the hosted
product's SDK ("Rate the tone 1-5") still sees what it judges. The judge must answer a
JSON object: ``{"score": n, "reason": "..."}`` (a number from min to max) or
``{"passed": true|false, "reason": "..."}``. It is asked for exactly that with
``response_format`` ``json_schema`` when its model enforces schemas
(``supports_strict_tool``), else told so in the instructions. Anything else (other
keys, a score out of range, text around the JSON) is an evaluator error, never a score.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from .fields import Fields, is_number
from .score import Sample, Score

PLACEHOLDERS = ("input", "output", "expected")
MAX_PROMPT = 32 * 1024
DEFAULT_RANGE = (1.0, 5.0)
MAX_REASON = 2000
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_FENCE = re.compile(r"^```(?:json)?\s*\n(.*)\n```$", re.DOTALL)


class JudgeAnswerError(ValueError):
    """The judge's answer is not the JSON object it was asked for."""


def configure(fields: Fields) -> tuple[str, dict[str, Any]]:
    """(output_type, config) of an ``llm_eval`` body (the model is checked by the caller)."""
    prompt = fields.text("prompt", max_length=MAX_PROMPT)
    unknown = sorted({name for name in _PLACEHOLDER.findall(prompt) if name not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)
        raise fields.invalid(
            "prompt", "uses {{" + unknown[0] + "}}; a judge's prompt may use " + allowed + "."
        )
    ranged = fields.given("min") or fields.given("max") or fields.given("threshold")
    output_type = fields.choice("output_type", ("boolean", "number"), "number" if ranged else "boolean")
    config: dict[str, Any] = {"model": fields.text("model", max_length=260), "prompt": prompt}
    if output_type == "boolean":
        for name in ("min", "max", "threshold"):
            if fields.given(name):
                raise fields.invalid(name, "applies to a judge whose output_type is number.")
        return output_type, config
    low = fields.number("min", -1e9, 1e9)
    high = fields.number("max", -1e9, 1e9)
    low, high = (DEFAULT_RANGE[0] if low is None else low), (DEFAULT_RANGE[1] if high is None else high)
    if low >= high:
        raise fields.invalid("max", f"must be above min ({low:g}), got {high:g}.")
    config.update(min=low, max=high, threshold=fields.number("threshold", low, high))
    return output_type, config


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def render(prompt: str, sample: Sample) -> str:
    """The prompt with the sample filled in; the sample appended when the prompt never shows the output."""
    values = {"input": _as_text(sample.input), "output": sample.output, "expected": _as_text(sample.expected)}
    shows_output = any(name == "output" for name in _PLACEHOLDER.findall(prompt))
    filled = _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), prompt)
    if shows_output:
        return filled
    parts = [filled, f"Input:\n{values['input']}", f"Output:\n{values['output']}"]
    if sample.expected is not None:
        parts.append(f"Expected output:\n{values['expected']}")
    return "\n\n".join(parts)


def _answer_schema(config: Mapping[str, Any]) -> dict[str, Any]:
    verdict = {"type": "number"} if "min" in config else {"type": "boolean"}
    key = "score" if "min" in config else "passed"
    return {
        "type": "object",
        "properties": {key: verdict, "reason": {"type": "string"}},
        "required": [key, "reason"],
        "additionalProperties": False,
    }


def _instructions(config: Mapping[str, Any]) -> str:
    if "min" in config:
        shape = (
            f'{{"score": <a number from {config["min"]:g} to {config["max"]:g}>, "reason": "<why, briefly>"}}'
        )
    else:
        shape = '{"passed": <true or false>, "reason": "<why, briefly>"}'
    return (
        "You are an evaluator. Judge the output as the user's message asks. "
        f"Answer with this JSON object and nothing else: {shape}"
    )


def request_body(config: Mapping[str, Any], sample: Sample, structured: bool) -> dict[str, Any]:
    """The chat completion the judge is asked; ``structured``: the model enforces JSON schemas."""
    body: dict[str, Any] = {
        "model": config["model"],
        "messages": [
            {"role": "system", "content": _instructions(config)},
            {"role": "user", "content": render(config["prompt"], sample)},
        ],
        "temperature": 0,
    }
    if structured:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "evaluation", "strict": True, "schema": _answer_schema(config)},
        }
    return body


def _content(answer: Mapping[str, Any]) -> str:
    choices = answer.get("choices")
    message = (
        choices[0].get("message")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict)
        else None
    )
    if not isinstance(message, dict):
        raise JudgeAnswerError("the judge's answer has no message")
    if isinstance(message.get("refusal"), str) and message["refusal"]:
        raise JudgeAnswerError(f"the judge refused: {message['refusal'][:200]}")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise JudgeAnswerError("the judge's answer has no text")
    return content.strip()


def _verdict_object(content: str) -> dict[str, Any]:
    fenced = _FENCE.match(content)
    try:
        value = orjson.loads(fenced.group(1) if fenced else content)
    except orjson.JSONDecodeError:
        raise JudgeAnswerError(f"the judge's answer is not a JSON object: {content[:200]!r}") from None
    if not isinstance(value, dict):
        raise JudgeAnswerError(f"the judge's answer is not a JSON object: {content[:200]!r}")
    return value


def read_answer(config: Mapping[str, Any], answer: Mapping[str, Any]) -> Score:
    """The score in a judge's chat completion; ``JudgeAnswerError`` when it is not as asked."""
    verdict = _verdict_object(_content(answer))
    key = "score" if "min" in config else "passed"
    if set(verdict) != {key, "reason"}:
        raise JudgeAnswerError(
            f"the judge's answer must hold exactly '{key}' and 'reason', got {sorted(verdict)}"
        )
    reason = verdict["reason"]
    if not isinstance(reason, str):
        raise JudgeAnswerError("the judge's 'reason' is not a string")
    reason = reason[:MAX_REASON]
    if key == "passed":
        if not isinstance(verdict["passed"], bool):
            raise JudgeAnswerError("the judge's 'passed' is not true or false")
        return Score.verdict(verdict["passed"], reason)
    score = verdict["score"]
    if not is_number(score) or not config["min"] <= score <= config["max"]:
        raise JudgeAnswerError(
            f"the judge's score {score!r} is not a number from {config['min']:g} to {config['max']:g}"
        )
    threshold = config.get("threshold")
    return Score(float(score), None if threshold is None else score >= threshold, reason)
