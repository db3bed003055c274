"""The kinds relaygate scores in process, without a model: each one's configuration check
and its score.

Regular expressions (the ``regex`` kind, and ``pattern`` inside a JSON schema) run on
jsonschema-rs's linear-time engine (Rust ``regex``): no pattern can backtrack for long on
a hostile answer, and a pattern that engine cannot run (lookaround, backreferences) is
refused when the evaluator is created. Compiled patterns and schemas are cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

from .fields import Fields
from .score import Sample, Score

MAX_KEYWORDS = 100
MAX_PATTERN = 1000
MAX_LENGTH_BOUND = 10_000_000
MAX_REASON = 300
_REGEX_OPTIONS = jsonschema_rs.RegexOptions(size_limit=1 << 20, dfa_size_limit=1 << 20)
_SCHEMA_ERRORS = (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError)

Config = dict[str, Any]


@dataclass(frozen=True)
class FunctionKind:
    configure: Callable[[Fields, str], Config]  # function_params (and their type) -> the stored config
    score: Callable[[Mapping[str, Any], Sample], Score]
    needs_expected: bool = False


def _short(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(
        {"type": "string", "pattern": pattern}, offline=True, pattern_options=_REGEX_OPTIONS
    )


@functools.lru_cache(maxsize=256)
def _schema(schema_json: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(
        orjson.loads(schema_json), validate_formats=True, offline=True, pattern_options=_REGEX_OPTIONS
    )


def compile_schema(schema: Any) -> jsonschema_rs.Validator:
    """A validator for ``schema``; ValueError (with the first line of the reason) when it is none."""
    try:
        return _schema(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS).decode())
    except _SCHEMA_ERRORS as exc:
        raise ValueError(str(exc).split("\n", 1)[0]) from None


# -- exact_match ----------------------------------------------------------------------


def _exact_config(params: Fields, _type: str) -> Config:
    params.only(("type", "ignore_case", "normalize_whitespace"))
    return {
        "ignore_case": params.flag("ignore_case"),
        "normalize_whitespace": params.flag("normalize_whitespace"),
    }


def _normalised(text: str, config: Mapping[str, Any]) -> str:
    if config.get("normalize_whitespace"):
        text = " ".join(text.split())
    return text.casefold() if config.get("ignore_case") else text


def _exact_score(config: Mapping[str, Any], sample: Sample) -> Score:
    matched = _normalised(sample.output, config) == _normalised(sample.expected or "", config)
    return Score.verdict(matched, None if matched else "The output differs from the expected output.")


# -- contains -------------------------------------------------------------------------


def _contains_config(params: Fields, kind: str) -> Config:
    if kind == "contains":
        params.only(("type", "value", "ignore_case"))
        keywords = [params.text("value", max_length=1024)]
    else:
        params.only(("type", "keywords", "ignore_case"))
        keywords = params.strings("keywords", max_items=MAX_KEYWORDS)
    return {
        "keywords": keywords,
        "match": "all" if kind == "contains_all" else "any",
        "ignore_case": params.flag("ignore_case"),
    }


def _contains_score(config: Mapping[str, Any], sample: Sample) -> Score:
    fold = config.get("ignore_case")
    output = sample.output.casefold() if fold else sample.output
    keywords: list[str] = config["keywords"]
    missing = [word for word in keywords if (word.casefold() if fold else word) not in output]
    if config["match"] == "all":
        return Score.verdict(not missing, _short(f"Missing: {', '.join(missing)}.") if missing else None)
    found = len(missing) < len(keywords)
    return Score.verdict(found, None if found else "None of the keywords is in the output.")


# -- regex ----------------------------------------------------------------------------


def _regex_config(params: Fields, _type: str) -> Config:
    params.only(("type", "pattern"))
    pattern = params.text("pattern", max_length=MAX_PATTERN)
    try:
        _pattern(pattern)
    except _SCHEMA_ERRORS:
        raise params.invalid(
            "pattern",
            "is not a pattern relaygate's linear-time regex engine can run (check the syntax; "
            "lookaround and backreferences are not supported).",
        ) from None
    return {"pattern": pattern}


def _regex_score(config: Mapping[str, Any], sample: Sample) -> Score:
    matched = _pattern(config["pattern"]).is_valid(sample.output)
    return Score.verdict(matched, None if matched else "The pattern is not found in the output.")


# -- json_valid and json_schema ---------------------------------------------------------


def _json_valid_config(params: Fields, _type: str) -> Config:
    params.only(("type",))
    return {}


def _parsed(output: str) -> tuple[Any, str | None]:
    try:
        return orjson.loads(output), None
    except orjson.JSONDecodeError as exc:
        return None, f"The output is not JSON: {exc.msg} at position {exc.pos}."


def _json_valid_score(_config: Mapping[str, Any], sample: Sample) -> Score:
    _value, problem = _parsed(sample.output)
    return Score.verdict(problem is None, problem)


def json_schema_score(config: Mapping[str, Any], sample: Sample) -> Score:
    value, problem = _parsed(sample.output)
    if problem is not None:
        return Score.verdict(False, problem)
    error = next(compile_schema(config["schema"]).iter_errors(value), None)
    if error is None:
        return Score.verdict(True)
    where = "".join(f"/{part}" for part in error.instance_path) or "/"
    return Score.verdict(False, _short(f"At '{where}': {error.message}"))


# -- length_between -------------------------------------------------------------------


def _length_config(params: Fields, _type: str) -> Config:
    params.only(("type", "min", "max"))
    low = params.whole("min", 0, MAX_LENGTH_BOUND)
    high = params.whole("max", 0, MAX_LENGTH_BOUND)
    if low > high:
        raise params.invalid("max", f"must be at least min ({low}), got {high}.")
    return {"min": low, "max": high}


def _length_score(config: Mapping[str, Any], sample: Sample) -> Score:
    length = len(sample.output)
    inside = config["min"] <= length <= config["max"]
    reason = f"{length} characters; the bounds are {config['min']} to {config['max']}."
    return Score.verdict(inside, reason)


FUNCTIONS: dict[str, FunctionKind] = {
    "exact_match": FunctionKind(_exact_config, _exact_score, needs_expected=True),
    "contains": FunctionKind(_contains_config, _contains_score),
    "regex": FunctionKind(_regex_config, _regex_score),
    "json_valid": FunctionKind(_json_valid_config, _json_valid_score),
    "length_between": FunctionKind(_length_config, _length_score),
}
