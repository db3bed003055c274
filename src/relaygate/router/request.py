"""Turning a client's JSON body into the body its model's upstream receives.

The body is parsed once; only the fields we route on are touched and everything else
goes through untouched, unknown fields included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from relaygate.catalog import Catalog, Principal, RoutableModel
from relaygate.errors import InvalidRequest, NotFound
from relaygate.router.answers import Answer
from relaygate.router.asgi import RawHeaders
from relaygate.router.capabilities import check_chat, check_model_type
from relaygate.router.endpoints import Endpoint
from relaygate.router.guards import InputGuard, encode_body
from relaygate.router.multipart import Upload
from relaygate.router.strict_schemas import STRICT_HEADER, StrictContract, strict_contract, unstream

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
    # The fields filled from the model's defaults (None: the endpoint takes none), so a
    # fallback model can put its own defaults in their place.
    defaulted: tuple[str, ...] | None = None
    answer: Answer | None = None  # None: JSON or chat SSE (see answers.py)
    upload: Upload | None = None  # a multipart body streamed upstream instead of ``payload``
    response_headers: RawHeaders = field(default_factory=list)  # e.g. parameters removed
    endpoint: Endpoint | None = None  # what a fallback or balanced model must serve too
    strict: StrictContract | None = None  # strict schemas relaygate checks itself (strict_schemas.py)
    size: int = 0  # bytes of the client's body (a bound of its prompt tokens)
    max_tokens: int | None = None  # the completion bound the client asked for, if any
    n: int = 1  # answers (choices, images) asked for

    @property
    def streams_upstream(self) -> bool:
        """A stream the upstream sends as it goes (a checked strict answer is asked for whole)."""
        return self.stream and self.strict is None


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


T = TypeVar("T")


class UnknownModel(NotFound):
    """The caller's workspace has no model ``router_id`` in the in-memory catalog."""

    def __init__(self, router_id: str) -> None:
        super().__init__(
            f"The model '{router_id}' does not exist or you do not have access to it. "
            "List the models available to your key with GET /v3/router/models.",
            param="model",
            code="model_not_found",
        )
        self.router_id = router_id


def model_not_found(name: str) -> UnknownModel:
    return UnknownModel(name)


async def with_fresh_model(catalog: Catalog, principal: Principal, build: Callable[[], T]) -> T:
    """``build()``; when its model was unknown, once more after looking the model up in the
    store (bounded, negative-cached: ``Catalog.find_model``), so a model created a moment
    ago by another process is served rather than refused with 404."""
    try:
        return build()
    except UnknownModel as miss:
        if await catalog.find_model(principal.workspace_id, miss.router_id) is None:
            raise
    return build()


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
        if "retries" in nested and "retry" not in nested:  # the oldest clients' spelling
            nested["retry"] = nested.pop("retries")
        routing.update((key, value) for key, value in nested.items() if key in ROUTING_FIELDS)
    for key in ROUTING_FIELDS:
        if key in body:
            routing[key] = body.pop(key)
    return routing


_MAX_TOKEN_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


def asked_bounds(body: dict[str, Any]) -> tuple[int | None, int]:
    """The client's own completion bound (None: it set none) and how many answers it asked for."""
    bound = None
    for name in _MAX_TOKEN_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            bound = value
            break
    n = body.get("n")
    return bound, n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1


def apply_defaults(body: dict[str, Any], model: RoutableModel) -> tuple[str, ...]:
    """Fill in the model's defaults the request left out; returns the keys it filled."""
    filled: list[str] = []
    if model.max_tokens is not None and "max_tokens" not in body and "max_completion_tokens" not in body:
        body["max_tokens"] = model.max_tokens
        filled.append("max_tokens")
    if model.temperature is not None and "temperature" not in body:
        body["temperature"] = model.temperature
        filled.append("temperature")
    return tuple(filled)


def admit(
    raw: bytes, endpoint: Endpoint, principal: Principal, catalog: Catalog, guard: InputGuard | None
) -> tuple[dict[str, Any], RoutableModel, dict[str, Any]]:
    """Parse and bound the body, find its model, check the type, take the routing fields out."""
    body = parse_json_object(raw)
    if guard is not None:
        guard.check(body)
    model = resolve_model(catalog, principal, body)
    check_model_type(model, endpoint)
    return body, model, extract_routing(body)


def prepare(
    raw: bytes, endpoint: Endpoint, principal: Principal, catalog: Catalog, guard: InputGuard | None = None
) -> PreparedCall:
    body, model, routing = admit(raw, endpoint, principal, catalog, guard)
    max_tokens, n = asked_bounds(body)
    strict = strict_contract(model, body) if endpoint.checks_chat else None
    notes = check_chat(model, body) if endpoint.checks_chat else []
    defaulted = apply_defaults(body, model) if endpoint.accepts_defaults else None
    body["model"] = model.model_id
    stream = body.get("stream") is True
    hide_usage = False
    if stream and endpoint.usage_in_stream:
        options = body.get("stream_options")
        if not (isinstance(options, dict) and options.get("include_usage") is True):
            body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
            hide_usage = True
    if strict is not None:
        notes = [*notes, *STRICT_HEADER]
        if stream:
            unstream(body)
    payload = encode_body(body)
    return PreparedCall(
        model,
        payload,
        stream,
        hide_usage,
        routing,
        defaulted,
        endpoint.answer,
        response_headers=notes,
        endpoint=endpoint,
        strict=strict,
        size=len(raw),
        max_tokens=max_tokens,
        n=n,
    )
