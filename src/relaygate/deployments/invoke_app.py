"""``POST /v2/deployments/invoke``, ``/stream`` and ``/get_config`` on the data plane.

These three paths are dispatched before the control plane (``serving/asgi_app.py``) and
served by the router's own machinery (``RouterApp.serve``): authentication and its
brake, load shedding, limits, the forwarder (plan, cache, attempts, relay), disconnect
watching and accounting. This module is only the ``Surface``: which call a request is,
and how its body becomes the router's ``PreparedCall`` (``invocation.py``). No store
query on the way: the catalog holds every deployment's current release.

* ``invoke``: a JSON answer always (the SDKs' invoke never reads a stream);
* ``stream``: server-sent events always, whatever the body's ``stream`` says;
* ``get_config``: the rendered request, no model call, nothing recorded.

Only POST comes here: ``GET /v2/deployments/invoke`` reads a deployment whose key is
"invoke" on the control plane.

Any key of the workspace may call them; another workspace's deployment is a 404.
"""

from __future__ import annotations

import orjson

from relaygate.asgi import JSON_TYPE, RawHeaders, header, send_bytes
from relaygate.catalog import Catalog, Principal
from relaygate.errors import NotFound, RelaygateError
from relaygate.router.adapters import deployment_notes
from relaygate.router.app import Prepared
from relaygate.router.asgi import read_body
from relaygate.router.call import parse_json_object, with_fresh_model
from relaygate.router.endpoints import Endpoint
from relaygate.router.guards import InputGuard
from relaygate.router.relay import SSE_HEADERS
from relaygate.types import Receive, Scope, Send
from relaygate.usage.accounting import CallEnd

from .invocation import INVOKE, STREAM, Rendered, invoke_shape, prepared_call, release_for, render_call
from .invoke_request import InvokeRequest, read_invoke
from .local_answers import config_answer, error_body, mock_answer, mock_stream
from .rendering import use_of

ROUTES = {
    "/v2/deployments/invoke": INVOKE,
    "/v2/deployments/stream": STREAM,
    "/v2/deployments/get_config": None,  # answered here: no model call
}
PATHS = frozenset(ROUTES)
_EVENT_STREAM = (b"content-type", b"text/event-stream")


def contact_id(scope: Scope) -> bytes | None:
    """Who the call is for when its body names no identity: the SDKs' ``contactid`` option
    (sent as ``X-ORQ-CONTACT-ID``), else relaygate's own ``x-relaygate-identity``."""
    return header(scope, b"x-orq-contact-id") or header(scope, b"x-relaygate-identity")


class DeploymentCalls:
    """The deployments' ``Surface`` of ``RouterApp.serve``."""

    def __init__(self, catalog: Catalog, guard: InputGuard, max_body: int) -> None:
        self._catalog = catalog
        self._guard = guard
        self._max_body = max_body

    async def route(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, path: str, request_id: str
    ) -> Endpoint | None:
        if path not in ROUTES or scope["method"] != "POST":  # the dispatcher sends only these here
            raise NotFound(f"Unknown endpoint: {scope['method']} {path}.", code="unknown_url")
        endpoint = ROUTES[path]
        if endpoint is None:
            await self._get_config(scope, receive, send, principal, request_id)
        return endpoint

    def endpoint_name(self, route: Endpoint) -> str:
        return route.name

    async def send_error(self, send: Send, error: RelaygateError, headers: RawHeaders) -> None:
        extra = [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
        await send_bytes(send, error.status, error_body(error), [JSON_TYPE, *headers, *extra])

    async def prepare(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, route: Endpoint, end: CallEnd
    ) -> Prepared:
        raw = await read_body(scope, receive, self._max_body)
        if end.body_log is not None:
            end.request_body = end.body_log.text(raw)
        request, rendered = await self._render(raw, principal)
        shape = invoke_shape(request, header(scope, b"traceparent"))
        use = use_of(rendered.release, rendered.variant, request.documents, shape)
        call = prepared_call(rendered, request, route is STREAM, use, contact_id(scope), len(raw))
        if request.mock_response is None:
            return call, None
        headers = [(b"x-request-id", end.request_id.encode()), *deployment_notes(use)]
        if call.stream:
            body = mock_stream(shape, use, rendered, request.mock_response)
            await send_bytes(send, 200, body, [_EVENT_STREAM, *SSE_HEADERS, *headers])
        else:
            await send_bytes(
                send, 200, mock_answer(shape, use, rendered, request.mock_response), [JSON_TYPE, *headers]
            )
        return None

    async def _render(self, raw: bytes, principal: Principal) -> tuple[InvokeRequest, Rendered]:
        request = read_invoke(parse_json_object(raw))
        release = await release_for(self._catalog, principal, request.key)
        rendered = await with_fresh_model(
            self._catalog,
            principal,
            lambda: render_call(release, request, principal, self._catalog, self._guard),
        )
        return request, rendered

    async def _get_config(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, request_id: str
    ) -> None:
        _, rendered = await self._render(await read_body(scope, receive, self._max_body), principal)
        answer = config_answer(rendered)
        headers = [JSON_TYPE, (b"x-request-id", request_id.encode())]
        await send_bytes(send, 200, orjson.dumps(answer), headers)
