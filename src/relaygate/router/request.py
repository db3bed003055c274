"""Turning a client's JSON body into the body its model's upstream receives.

The body is parsed once; only the fields we route on are touched and everything else
goes through untouched, unknown fields included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from relaygate.catalog import Catalog, Principal, RoutableModel
from relaygate.errors import InvalidRequest, NotFound
from relaygate.router.endpoints import Endpoint, type_label

# relaygate's own request extensions: read here, never sent upstream. Older clients of
# the hosted router nest them under "orq".
ROUTING_FIELDS = (
    "retry",
    "fallbacks",
    "load_balancer",
    "cache",
    "timeout",
    "identity",
    "thread",
    "metadata",
    "name",
)


@dataclass(slots=True)
class PreparedCall:
    model: RoutableModel
    payload: bytes
    stream: bool
    hide_usage: bool
    routing: dict[str, Any] = field(default_factory=dict)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"We could not parse the JSON body of your request ({exc.msg} at position {exc.pos}). "
            "The body must be a JSON object.",
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return body


def model_not_found(name: str) -> NotFound:
    return NotFound(
        f"The model '{name}' does not exist or you do not have access to it. "
        "List the models available to your key with GET /v3/router/models.",
        param="model",
        code="model_not_found",
    )


def resolve_model(catalog: Catalog, principal: Principal, body: dict[str, Any]) -> RoutableModel:
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("You must provide a model parameter (a router model id).", param="model")
    model = catalog.model(principal.workspace_id, name)
    if model is None:
        raise model_not_found(name)
    return model


def extract_routing(body: dict[str, Any]) -> dict[str, Any]:
    routing: dict[str, Any] = {}
    nested = body.pop("orq", None)
    if isinstance(nested, dict):
        routing.update((key, value) for key, value in nested.items() if key in ROUTING_FIELDS)
    for key in ROUTING_FIELDS:
        if key in body:
            routing[key] = body.pop(key)
    return routing


def _apply_defaults(body: dict[str, Any], model: RoutableModel) -> None:
    if model.max_tokens is not None and "max_tokens" not in body and "max_completion_tokens" not in body:
        body["max_tokens"] = model.max_tokens
    if model.temperature is not None and "temperature" not in body:
        body["temperature"] = model.temperature


def prepare(raw: bytes, endpoint: Endpoint, principal: Principal, catalog: Catalog) -> PreparedCall:
    body = parse_json_object(raw)
    model = resolve_model(catalog, principal, body)
    if model.model_type not in endpoint.model_types:
        raise InvalidRequest(
            f"Model '{model.router_id}' is {type_label(model.model_type)} and cannot serve {endpoint.name}; "
            f"use {' or '.join(type_label(kind) for kind in sorted(endpoint.model_types))}.",
            param="model",
            code="model_type_mismatch",
        )
    routing = extract_routing(body)
    if endpoint.accepts_defaults:
        _apply_defaults(body, model)
    body["model"] = model.model_id
    stream = body.get("stream") is True
    hide_usage = False
    if stream and endpoint.usage_in_stream:
        options = body.get("stream_options")
        if not (isinstance(options, dict) and options.get("include_usage") is True):
            body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
            hide_usage = True
    return PreparedCall(model, orjson.dumps(body), stream, hide_usage, routing)
