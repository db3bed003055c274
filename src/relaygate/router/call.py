"""The prepared call: a client's request read once into the facts the router needs.

Preparing parses the body once (orjson), bounds it, finds its model in the catalog,
takes relaygate's routing fields out, and validates who the call is for. What comes out
is immutable; nothing downstream parses the client's bytes again. The body itself is
held as parsed, routing fields removed and otherwise as it came: each candidate model's
endpoint adapter (``adapters.py``) builds what to send that model from it, copying
before it changes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from relaygate.catalog import Catalog, Principal, RoutableModel
from relaygate.deployments.rendering import (
    MODEL_PREFIX,
    DeploymentUse,
    UnknownDeployment,
    through_deployment,
    use_of,
)
from relaygate.errors import InvalidRequest, NotFound, PermissionDenied
from relaygate.router.capabilities import check_model_type
from relaygate.router.guards import InputGuard
from relaygate.usage.identity import Attribution

if TYPE_CHECKING:
    from relaygate.router.endpoints import Endpoint
    from relaygate.router.multipart import Upload

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
_MAX_TOKEN_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


@dataclass(frozen=True, slots=True)
class PreparedCall:
    endpoint: Endpoint
    model: RoutableModel  # the model the client named
    body: Mapping[str, Any]  # routing fields removed; never changed (adapters copy)
    stream: bool
    routing: Mapping[str, Any]  # the routing fields, as sent (``routing.parse_plan`` checks them)
    attribution: Attribution  # identity, thread, name, metadata: validated
    size: int = 0  # bytes of the client's body (a bound of its prompt tokens)
    max_tokens: int | None = None  # the completion bound the client asked for, if any
    n: int = 1  # answers (choices, images) asked for
    upload: Upload | None = None  # a multipart body streamed upstream (its ``body`` holds the form fields)
    deployment: DeploymentUse | None = None  # the deployment the call came through
    # The caller key's allow-list (router ids), set only when it has one and the call has
    # routing fields: a fallback or balanced model outside it is refused as unknown.
    allowed_models: frozenset[str] | None = None


T = TypeVar("T")


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


class DisabledModel(PermissionDenied):
    """The caller's workspace has the model ``router_id``, switched off by an admin.

    403: the OpenAI SDKs raise ``PermissionDeniedError`` and, as for 404, do not retry it
    (retrying cannot help until an admin enables the model again); a 404 would tell the
    caller the name is wrong when it is right."""

    def __init__(self, router_id: str) -> None:
        super().__init__(
            f"The model '{router_id}' is disabled in this workspace. An admin can enable it again "
            "in Studio or with PATCH /v2/models/openai-like/{id}.",
            param="model",
            code="model_disabled",
        )
        self.router_id = router_id


async def with_fresh_model(catalog: Catalog, principal: Principal, build: Callable[[], T]) -> T:
    """``build()``; when its model was unknown, once more after looking the model up in the
    store (bounded, negative-cached: ``Catalog.find_model``), so a model created a moment
    ago by another process is served rather than refused with 404. A deployment
    (``deployment/<key>``) likewise."""
    try:
        return build()
    except UnknownModel as miss:
        # A model the key's allow-list leaves out is not looked for: it is refused as unknown.
        if not principal.may_use(miss.router_id):
            raise
        if await catalog.find_model(principal.workspace_id, miss.router_id) is None:
            raise
    except UnknownDeployment as miss:
        if await catalog.find_deployment(principal.workspace_id, miss.key) is None:
            raise
    return build()


def resolve_model(catalog: Catalog, principal: Principal, body: Mapping[str, Any]) -> RoutableModel:
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("You must provide a model parameter (a router model id).", param="model")
    model = catalog.model(principal.workspace_id, name)
    if model is None and principal.may_use(name) and catalog.is_disabled(principal.workspace_id, name):
        raise DisabledModel(name)
    allowed = principal.allowed_models  # an attribute check for keys without an allow-list
    if model is None or (allowed is not None and name not in allowed):
        raise UnknownModel(name)
    return model


def extract_routing(body: dict[str, Any]) -> dict[str, Any]:
    """Take relaygate's routing fields out of ``body`` (top level, or nested under ``orq``)."""
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


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def asked_bounds(body: Mapping[str, Any]) -> tuple[int | None, int]:
    """The client's own completion bound (None: it set none) and how many answers it asked for."""
    bound = next((found for name in _MAX_TOKEN_FIELDS if (found := _positive(body.get(name)))), None)
    return bound, _positive(body.get("n")) or 1


def prepare_json(
    raw: bytes,
    endpoint: Endpoint,
    principal: Principal,
    catalog: Catalog,
    guard: InputGuard,
    header_identity: bytes | None,
) -> PreparedCall:
    """A JSON body's call: parsed, bounded, its model found and able to serve ``endpoint``."""
    body = parse_json_object(raw)
    guard.check(body)
    deployment = None
    try:
        model = resolve_model(catalog, principal, body)
    except UnknownModel as miss:
        if not miss.router_id.startswith(MODEL_PREFIX):
            raise
        model, deployment, deployment_routing = _through_deployment(
            miss.router_id, body, endpoint, principal, catalog
        )
        guard.check(body)
    check_model_type(model, endpoint)
    routing = extract_routing(body)
    if deployment is not None:
        routing = {**deployment_routing, **routing}  # the client's own routing fields win
    max_tokens, n = asked_bounds(body)
    return PreparedCall(
        endpoint,
        model,
        body,
        body.get("stream") is True,
        routing,
        Attribution.of(routing, header_identity),
        size=len(raw),
        max_tokens=max_tokens,
        n=n,
        deployment=deployment,
    )


def _through_deployment(
    name: str, body: dict[str, Any], endpoint: Endpoint, principal: Principal, catalog: Catalog
) -> tuple[RoutableModel, DeploymentUse, Mapping[str, Any]]:
    """``model: "deployment/<key>"``: the body becomes the deployment's chat request (in
    place, ``deployments/rendering.py``); its variant's model, the use and the deployment's
    routing fields come back. Only a name with that prefix the catalog lacks comes here."""
    key = name[len(MODEL_PREFIX) :]
    if endpoint.name != "chat.completions":
        raise InvalidRequest(
            f"A deployment serves chat completions only; call /chat/completions with model '{name}'.",
            param="model",
        )
    release = catalog.deployment(principal.workspace_id, key)
    if release is None:
        raise UnknownDeployment(key, param="model")
    variant = through_deployment(release, body)
    return resolve_model(catalog, principal, body), use_of(release, variant), release.routing
