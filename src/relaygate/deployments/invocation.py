"""A deployment invoke's body as the router's ``PreparedCall``: the same call any router
call is, plus what it came through.

The key's current release comes from the catalog (a dict lookup; a key it lacks gets one
bounded store lookup, ``Catalog.find_deployment``); the call's ``context`` picks the
variant; its template is rendered with ``inputs`` around the caller's messages
(``rendering.py``); the variant's model is the call's model and the deployment's routing
policy (fallbacks, retry, timeout, cache) its routing. ``/v2/deployments/get_config`` stops
after rendering (``Rendered``); ``invoke`` and ``stream`` go on to a ``PreparedCall``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from relaygate.catalog import Catalog, Principal, RoutableModel
from relaygate.router.call import PreparedCall, asked_bounds, resolve_model
from relaygate.router.capabilities import check_model_type
from relaygate.router.endpoints import Endpoint
from relaygate.router.guards import InputGuard
from relaygate.usage.identity import Attribution

from .config import Release, Variant
from .ids import new_ulid
from .invoke_request import InvokeRequest
from .rendering import DeploymentUse, InvokeShape, UnknownDeployment, invoke_messages, invoke_parameters
from .sdk_shapes import timestamp

_CHAT = frozenset({"chat"})
# The router endpoints of a deployment call: a chat completion, answered in the SDKs' shape.
INVOKE = Endpoint(
    "deployments.invoke", "/chat/completions", _CHAT, True, True, "deployment", checks_chat=True
)
STREAM = Endpoint(
    "deployments.stream", "/chat/completions", _CHAT, True, True, "deployment", checks_chat=True
)
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A deployment call rendered: the request its variant's model gets, before routing."""

    release: Release
    variant: Variant
    model: RoutableModel
    body: dict[str, Any]  # the chat request: the variant's parameters, extra_params, messages


async def release_for(catalog: Catalog, principal: Principal, key: str) -> Release:
    """The workspace's deployment ``key`` as it is now; a 404 when it has none."""
    release = catalog.deployment(principal.workspace_id, key)
    if release is None:
        release = await catalog.find_deployment(principal.workspace_id, key)
    if release is None:
        raise UnknownDeployment(key)
    return release


def render_call(
    release: Release, request: InvokeRequest, principal: Principal, catalog: Catalog, guard: InputGuard
) -> Rendered:
    """The chat request ``request`` makes of ``release`` (a 400 naming a missing variable, a
    404 when the variant's model is not in the catalog: ``with_fresh_model`` looks it up)."""
    variant = release.variant_for(request.context)
    messages = invoke_messages(variant, request.inputs, request.prefix_messages, request.messages)
    body = {**invoke_parameters(variant, request.extra_params), "model": variant.model, "messages": messages}
    guard.check(body)
    model = resolve_model(catalog, principal, body)
    check_model_type(model, INVOKE)
    return Rendered(release, variant, model, body)


def trace_ids(traceparent: bytes | None) -> tuple[str, str]:
    """The answer's telemetry ids: the client's W3C trace id when it sent a valid
    ``traceparent`` (``00-<32 hex>-<16 hex>-<2 hex>``), else a new one; a new span id."""
    parts = traceparent.decode("latin-1").strip().split("-") if traceparent else []
    trace = parts[1] if len(parts) == 4 and len(parts[1]) == 32 else ""
    if not trace or not set(trace) <= _HEX or trace == "0" * 32:
        trace = secrets.token_hex(16)
    return trace, secrets.token_hex(8)


def invoke_shape(request: InvokeRequest, traceparent: bytes | None) -> InvokeShape:
    trace_id, span_id = trace_ids(traceparent)
    created = timestamp(datetime.now(UTC))
    return InvokeShape(new_ulid(), created, trace_id, span_id, request.include_usage)


def prepared_call(
    rendered: Rendered,
    request: InvokeRequest,
    stream: bool,
    use: DeploymentUse,
    header_identity: bytes | None,
    size: int,
) -> PreparedCall:
    """The router's call for an invoke (``stream``: ``/stream``, whatever the body said)."""
    body = rendered.body
    if stream:
        body["stream"] = True
    max_tokens, n = asked_bounds(body)
    return PreparedCall(
        STREAM if stream else INVOKE,
        rendered.model,
        body,
        stream,
        rendered.release.routing,
        Attribution.of(request.attribution, header_identity),
        size=size + len(orjson.dumps(body["messages"])),
        max_tokens=max_tokens,
        n=n,
        deployment=use,
    )
