"""A stored evaluator as the fields of the hosted product's evaluator object.

The stored content is relaygate's (``{kind, description, output_type, config}``); these
are the type-specific fields its SDKs read (``type``, ``function_params``, ``schema``,
``prompt``/``model``, ``url``/``headers``...), plus relaygate's own beside them (``kind``,
the judge's range, the HTTP timeout), which the SDKs ignore. The same fields, with
secrets shown, are the base an update is laid over (``config.updated_definition``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from .http_eval import masked_headers
from .kinds import SDK_TYPE

Content = Mapping[str, Any]


def _function(params_type: str, *names: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def fields(config: Mapping[str, Any]) -> dict[str, Any]:
        params = {"type": params_type}
        params.update((name, config[name]) for name in names if config.get(name) is not None)
        return {"function_params": params}

    return fields


def _contains(config: Mapping[str, Any]) -> dict[str, Any]:
    params_type = "contains_all" if config["match"] == "all" else "contains_any"
    return _function(params_type, "keywords", "ignore_case")(config)


def _json_schema(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"schema": orjson.dumps(config["schema"]).decode()}


def _judge(config: Mapping[str, Any]) -> dict[str, Any]:
    fields = {"mode": "single", "model": config["model"], "prompt": config["prompt"]}
    fields.update(
        (name, config[name]) for name in ("min", "max", "threshold") if config.get(name) is not None
    )
    return fields


def _http(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "url": config["url"],
        "method": "POST",
        "headers": dict(config["headers"]),
        "payload": dict(config["payload"]),
        "timeout_ms": config["timeout_ms"],
    }


_FIELDS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "exact_match": _function("exact_match", "ignore_case", "normalize_whitespace"),
    "contains": _contains,
    "regex": _function("regex", "pattern"),
    "json_valid": _function("is_valid_json"),
    "length_between": _function("length_between", "min", "max"),
    "embedding_similarity": _function("cosine_similarity", "model", "threshold"),
    "json_schema": _json_schema,
    "llm_eval": _judge,
    "http_eval": _http,
}


def sdk_fields(content: Content) -> dict[str, Any]:
    """``type``, ``output_type``, ``description``, ``kind`` and the type's own fields
    (an ``http_eval``'s header values masked)."""
    kind = content["kind"]
    fields: dict[str, Any] = {
        "type": SDK_TYPE[kind],
        "output_type": content["output_type"],
        "description": content.get("description", ""),
        "kind": kind,
        **_FIELDS[kind](content["config"]),
    }
    if kind == "http_eval":
        fields["headers"] = masked_headers(fields["headers"])
    return fields
