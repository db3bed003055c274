"""Strict tools and JSON-schema answers for models whose upstream does not enforce them.

Agent frameworks (openai-agents, pydantic-ai) send ``strict: true`` function tools and
``response_format: {type: json_schema, json_schema: {strict: true, schema}}``. For a model
without ``supports_strict_tool`` (vLLM, Ollama, llama.cpp ...), relaygate:

* removes ``strict`` and keeps the schemas, which still guide the upstream;
* compiles each schema once per call (jsonschema-rs, about 5 us; no remote ``$ref`` is
  ever fetched), so a schema that is not one is a 400 before anything is sent;
* checks the answer: each call of a strict tool must carry JSON arguments valid under its
  ``parameters``, and a strict JSON-schema answer's content must be JSON valid under its
  schema. A choice cut off (``finish_reason`` ``length`` or ``content_filter``), a refusal,
  or a tool call where an answer was asked for is relayed unchecked, as OpenAI does.

The retries on a mismatch are ``strict_retry.py``'s. A model whose configuration says
``strict_mode: "reject"`` keeps the 400 ``capability_not_supported`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

from relaygate.catalog import RoutableModel
from relaygate.errors import InvalidRequest
from relaygate.router.asgi import RawHeaders
from relaygate.router.capabilities import missing_capability
from relaygate.vocab import STRICT_MODES

STRICT_HEADER: RawHeaders = [(b"x-relaygate-strict", b"emulated")]
_UNCHECKED_ENDS = frozenset({"length", "content_filter"})  # cut off: not the model's whole answer
_MAX_REASON = 300


@dataclass(frozen=True, slots=True)
class StrictContract:
    """The schemas relaygate checks an answer against, compiled once for the call."""

    tools: Mapping[str, jsonschema_rs.Validator]  # strict function name -> its arguments' schema
    answer: jsonschema_rs.Validator | None  # a strict JSON-schema answer's schema

    def check(self, answer: Any) -> str | None:
        """What in a chat completion breaks a strict schema, or None when nothing does."""
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not isinstance(choices, list):
            return None
        for choice in choices:
            if not isinstance(choice, dict) or choice.get("finish_reason") in _UNCHECKED_ENDS:
                continue
            message = choice.get("message")
            if isinstance(message, dict) and (problem := self._check_message(message)) is not None:
                return problem
        return None

    def _check_message(self, message: dict[str, Any]) -> str | None:
        called = False
        for function in _called_functions(message):
            called = True
            name = function.get("name")
            validator = self.tools.get(name) if isinstance(name, str) else None
            if validator is not None:
                problem = _json_problem(
                    validator, function.get("arguments"), f"the arguments of tool '{name}'"
                )
                if problem is not None:
                    return problem
        if self.answer is None or called or message.get("refusal"):
            return None
        return _json_problem(self.answer, message.get("content"), "the answer")


def _called_functions(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                yield function
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        yield legacy


def _json_problem(validator: jsonschema_rs.Validator, text: Any, what: str) -> str | None:
    if not isinstance(text, str):
        return f"{what} is missing"
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return f"{what} is not valid JSON"
    error = next(validator.iter_errors(value), None)
    if error is None:
        return None
    where = "".join(f"/{part}" for part in error.instance_path) or "/"
    return f"{what} do not match the schema at '{where}': {error.message[:_MAX_REASON]}"


def _strict_functions(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(param, function definition) of each strict function in ``tools`` and ``functions``."""
    found: list[tuple[str, dict[str, Any]]] = []
    tools = body.get("tools")
    for index, tool in enumerate(tools if isinstance(tools, list) else ()):
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("strict") is True:
            found.append((f"tools[{index}].function", function))
    functions = body.get("functions")  # the older form: flat definitions
    for index, function in enumerate(functions if isinstance(functions, list) else ()):
        if isinstance(function, dict) and function.get("strict") is True:
            found.append((f"functions[{index}]", function))
    return found


def _strict_format(body: dict[str, Any]) -> dict[str, Any] | None:
    """The ``json_schema`` object of a strict JSON-schema ``response_format``."""
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    return spec if isinstance(spec, dict) and spec.get("strict") is True else None


def compile_schema(schema: Any, param: str) -> jsonschema_rs.Validator:
    """A validator for a client's schema; a 400 naming ``param`` when it is not a schema."""
    if not isinstance(schema, dict | bool):
        raise InvalidRequest(f"Invalid schema in '{param}': a JSON schema must be an object.", param=param)
    try:
        return jsonschema_rs.validator_for(schema, validate_formats=True, offline=True)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        reason = str(exc).split("\n", 1)[0][:_MAX_REASON]
        raise InvalidRequest(
            f"Invalid schema in '{param}': {reason}", param=param, code="invalid_schema"
        ) from None


def strict_mode(model: RoutableModel) -> str:
    return model.strict_mode if model.strict_mode in STRICT_MODES else "emulate"


def _refuse(model: RoutableModel, need: str, param: str) -> InvalidRequest:
    hint = ' Or set its configuration.strict_mode to "emulate": relaygate then checks the schemas itself.'
    return missing_capability(model, "supports_strict_tool", need, param, hint=hint)


def strict_contract(model: RoutableModel, body: dict[str, Any]) -> StrictContract | None:
    """For a model that does not enforce strict schemas: take ``strict`` out of the body and
    return what to check the answer against (None: nothing to check, the common case).

    Raises the 400 of a model in ``reject`` mode, or of a schema that is not one.
    """
    if model.supports("supports_strict_tool"):
        return None
    functions = _strict_functions(body)
    answer_format = _strict_format(body)
    if not functions and answer_format is None:
        return None
    if strict_mode(model) == "reject":
        if functions:
            raise _refuse(model, "strict tools ('strict': true)", "tools")
        raise _refuse(
            model, "strict JSON-schema answers (response_format json_schema, strict: true)", "response_format"
        )
    # The body is a shallow copy of the call's, which the next candidate model reads too:
    # what holds ``strict`` is copied before it is taken out.
    for key in ("tools", "functions", "response_format"):
        if key in body:
            body[key] = orjson.loads(orjson.dumps(body[key]))
    functions, answer_format = _strict_functions(body), _strict_format(body)
    tools: dict[str, jsonschema_rs.Validator] = {}
    for param, function in functions:
        del function["strict"]
        name = function.get("name")
        if isinstance(name, str):
            tools[name] = compile_schema(
                function.get("parameters", {"type": "object"}), f"{param}.parameters"
            )
    answer = None
    if answer_format is not None:
        del answer_format["strict"]
        answer = compile_schema(answer_format.get("schema", {}), "response_format.json_schema.schema")
    return StrictContract(tools, answer)


def unstream(body: dict[str, Any]) -> None:
    """Ask the upstream for a whole answer: a stream is replayed once the answer is checked."""
    body["stream"] = False
    body.pop("stream_options", None)
