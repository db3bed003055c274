"""An evaluator's definition, checked before it is stored: create bodies and updates.

The body is the hosted product's create body (``type`` and that type's fields), which
relaygate also takes for the types its SDK create call lacks (``function_eval``,
``json_schema``, ``http_eval``), with relaygate's own options beside them. Every kind's
configuration is checked here, each refusal a 400 naming the field; what needs the
workspace (its models and deployments, the SSRF rules for a URL) is checked by
``check_references``. Types that run code are refused: relaygate runs no user code in
its process, and says to put such code behind an ``http_eval``.

Stored content: ``{"kind", "description", "output_type", "config"}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from relaygate.errors import UpstreamRefused

from . import http_eval, judge, similarity
from .fields import Fields, InvalidEvaluator
from .functions import FUNCTIONS, compile_schema
from .kinds import CODE_TYPES, FUNCTION_KINDS, NUMBER_KINDS, Kind
from .shapes import sdk_fields

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_KEY = 128
MAX_DESCRIPTION = 4096
MAX_SCHEMA_BYTES = 256 * 1024
DEPLOYMENT_PREFIX = "deployment/"
COMMON_FIELDS = (
    "type",
    "key",
    "description",
    "output_type",
    "kind",
    "path",
    "project_id",
    "guardrail_config",
)
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "function_eval": ("function_params",),
    "json_schema": ("schema",),
    "llm_eval": (
        "prompt",
        "mode",
        "model",
        "jury",
        "repetitions",
        "categories",
        "categorical_labels",
        "dataset_id",
        "min",
        "max",
        "threshold",
    ),
    "http_eval": ("url", "method", "headers", "payload", "timeout_ms"),
}
VERSION_FIELDS = ("versionIncrement", "versionDescription")  # an update's note, not the definition
# The hosted product's judge options relaygate does not have: absent (or null) is fine.
_JUDGE_ABSENT = {
    "jury": "a jury of judges (relaygate's judge is one model: mode 'single')",
    "categories": "categorical output (use output_type boolean or number)",
    "categorical_labels": "categorical output (use output_type boolean or number)",
    "dataset_id": "tying an evaluator to a dataset",
}

Content = dict[str, Any]


@dataclass(frozen=True)
class Definition:
    key: str
    content: Content


class Workspace(Protocol):
    """What checking an evaluator's references needs of its workspace."""

    async def model_type(self, router_id: str) -> str | None: ...

    async def has_deployment(self, key: str) -> bool: ...

    async def check_url(self, url: str) -> None: ...


def _key(fields: Fields) -> str:
    key = fields.text("key", max_length=MAX_KEY)
    if not KEY_PATTERN.match(key):
        raise fields.invalid(
            "key", "must be letters, digits, '_', '.' or '-', starting with a letter or digit."
        )
    return key


def _type(fields: Fields) -> str:
    kind = fields.values.get("type")
    if kind in CODE_TYPES:
        raise fields.invalid(
            "type",
            f"a {kind} evaluator runs {CODE_TYPES[kind]}, and relaygate runs no user code in its process. "
            "Serve the code over HTTP and create an http_eval evaluator that relaygate calls with "
            "{input, output, expected}.",
            "unsupported_evaluator_type",
        )
    if kind not in TYPE_FIELDS:
        raise fields.invalid("type", f"must be one of {', '.join(TYPE_FIELDS)}, got {kind!r}.")
    return str(kind)


def _function_eval(fields: Fields) -> tuple[Kind, Content]:
    params = Fields(fields.values.get("function_params"), "function_params")
    params_type = params.values.get("type")
    if params_type not in FUNCTION_KINDS:
        raise params.invalid(
            "type", f"relaygate's function evaluators are {', '.join(FUNCTION_KINDS)}; got {params_type!r}."
        )
    kind = FUNCTION_KINDS[params_type]
    if kind == "embedding_similarity":
        return kind, similarity.configure(params)
    return kind, FUNCTIONS[kind].configure(params, params_type)


def _json_schema(fields: Fields) -> Content:
    schema = fields.values.get("schema")
    if isinstance(schema, str):
        if len(schema) > MAX_SCHEMA_BYTES:
            raise fields.invalid("schema", f"is larger than {MAX_SCHEMA_BYTES} bytes.")
        try:
            schema = orjson.loads(schema)
        except orjson.JSONDecodeError as exc:
            raise fields.invalid("schema", f"is not JSON ({exc.msg}).") from None
    if not isinstance(schema, dict | bool):
        raise fields.invalid("schema", "must be a JSON schema (an object, or its JSON text).")
    try:
        compile_schema(schema)
    except ValueError as exc:
        raise fields.invalid("schema", f"is not a valid JSON schema: {exc}", "invalid_schema") from None
    return {"schema": schema}


def _judge(fields: Fields) -> tuple[str, Content]:
    if fields.values.get("mode", "single") != "single":
        raise fields.invalid("mode", f"must be 'single': relaygate has no {_JUDGE_ABSENT['jury']}.")
    for name, feature in _JUDGE_ABSENT.items():
        value = fields.values.get(name)
        if value is not None and value != []:
            raise fields.invalid(
                name, f"relaygate has no {feature}; leave this field out.", "unsupported_field"
            )
    if fields.values.get("repetitions") not in (None, 1):
        raise fields.invalid("repetitions", "relaygate asks its judge once; leave this field out or set 1.")
    return judge.configure(fields)


def _configured(kind_type: str, fields: Fields) -> tuple[Kind, str | None, Content]:
    """(kind, output type if the kind chooses it, config) of one type's fields."""
    if kind_type == "function_eval":
        kind, config = _function_eval(fields)
        return kind, None, config
    if kind_type == "json_schema":
        return "json_schema", None, _json_schema(fields)
    if kind_type == "llm_eval":
        output_type, config = _judge(fields)
        return "llm_eval", output_type, config
    return "http_eval", None, http_eval.configure(fields)


def _output_type(fields: Fields, kind: Kind, chosen: str | None) -> str:
    derived = chosen or ("number" if kind in NUMBER_KINDS else "boolean")
    given = fields.values.get("output_type")
    if kind == "http_eval" and given in ("boolean", "number"):
        return str(given)
    if given is not None and given != derived:
        raise fields.invalid("output_type", f"is {derived} for a {kind} evaluator, got {given!r}.")
    return derived


def parse_definition(body: Any) -> Definition:
    """A create body (or an update laid over the stored definition), checked whole."""
    fields = Fields(body, "")
    kind_type = _type(fields)
    fields.only((*COMMON_FIELDS, *TYPE_FIELDS[kind_type]))
    if fields.given("guardrail_config"):
        raise fields.invalid("guardrail_config", "relaygate has no guardrails; leave this field out.")
    key = _key(fields)
    kind, chosen, config = _configured(kind_type, fields)
    if fields.given("kind") and fields.values["kind"] != kind:
        raise fields.invalid(
            "kind", f"is {kind} for this type and configuration, got {fields.values['kind']!r}."
        )
    content = {
        "kind": kind,
        "description": fields.text("description", default="", max_length=MAX_DESCRIPTION, empty=True),
        "output_type": _output_type(fields, kind, chosen),
        "config": config,
    }
    return Definition(key, content)


def updated_definition(key: str, content: Content, patch: Mapping[str, Any]) -> Definition:
    """An update: the given fields laid over the stored definition (of the same type), checked whole.
    A header value sent back masked, as it was shown, keeps its stored value."""
    changes = {name: value for name, value in patch.items() if name not in VERSION_FIELDS}
    current = sdk_fields(content)
    same_type = changes.get("type", current["type"]) == current["type"]
    base = {**current, "key": key} if same_type else {"key": key, "description": current["description"]}
    if same_type:
        base.pop("kind")
        if content["kind"] == "llm_eval" and "output_type" in changes:
            for name in ("min", "max", "threshold"):
                base.pop(name, None)
    definition = parse_definition({**base, **changes})
    if same_type and content["kind"] == "http_eval":
        config = definition.content["config"]
        config["headers"] = http_eval.kept_headers(config["headers"], content["config"]["headers"])
    return definition


async def check_references(content: Content, workspace: Workspace) -> None:
    """The models, deployment or URL a definition names, in its workspace (400s naming the field)."""
    kind, config = content["kind"], content["config"]
    if kind == "llm_eval":
        model = config["model"]
        if model.startswith(DEPLOYMENT_PREFIX):
            if not await workspace.has_deployment(model[len(DEPLOYMENT_PREFIX) :]):
                raise InvalidEvaluator("model", f"is not a deployment of this workspace: {model!r}.")
        elif await workspace.model_type(model) != "chat":
            raise InvalidEvaluator(
                "model",
                "must be the router id of an enabled chat model of this workspace (or deployment/<key>), "
                f"got {model!r}.",
            )
    elif kind == "embedding_similarity" and await workspace.model_type(config["model"]) != "embedding":
        raise InvalidEvaluator(
            "function_params.model",
            "must be the router id of an enabled embedding model of this workspace, "
            f"got {config['model']!r}.",
        )
    elif kind == "http_eval":
        try:
            await workspace.check_url(config["url"])
        except UpstreamRefused as exc:
            raise InvalidEvaluator(
                "url", f"is not an address relaygate may call: {exc.message}", exc.code
            ) from None
