"""Preparing the calls that do not take the JSON fast path: uploads and ``/responses``.

A ``multipart`` endpoint's body is scanned only up to its first file (``model`` and
relaygate's routing fields, ``form_routing.py``) and then streamed to the upstream
(``multipart.py``); ``/responses`` is passed through or
translated onto chat completions (``responses_api``). Either way the result is an
ordinary ``PreparedCall`` that the forwarder sends like any other.
"""

from __future__ import annotations

import asyncio

import orjson

from relaygate.catalog import Catalog, Principal
from relaygate.errors import InvalidRequest
from relaygate.router.asgi import header, read_body
from relaygate.router.capabilities import check_model_type
from relaygate.router.endpoints import Endpoint
from relaygate.router.form_routing import is_routing_field, routing_object
from relaygate.router.guards import InputGuard
from relaygate.router.multipart import Upload, UploadHead, scan_upload
from relaygate.router.request import PreparedCall, extract_routing, resolve_model, with_fresh_model
from relaygate.router.responses_api import prepare_responses
from relaygate.types import Receive, Scope

# The call, the upstream path, and an event set once the client's body was read whole
# (None: it was read before the call was made).
Prepared = tuple[PreparedCall, str, asyncio.Event | None]

# Routing that may send a call more than once: an upload carrying any of these is read
# whole before the first attempt (bounded by RELAYGATE_MAX_UPLOAD_BYTES), not streamed.
_REPEATING = ("retry", "fallbacks", "load_balancer")


def declared_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidRequest("Content-Length is not a number") from None


class SpecialCalls:
    def __init__(
        self, catalog: Catalog, max_body: int, max_upload: int, guard: InputGuard | None = None
    ) -> None:
        self._catalog = catalog
        self._max_body = max_body
        self._max_upload = max_upload
        self._guard = guard

    async def prepare(
        self, endpoint: Endpoint, scope: Scope, receive: Receive, principal: Principal
    ) -> Prepared:
        if endpoint.kind == "multipart":
            return await self._upload(endpoint, scope, receive, principal)
        raw = await read_body(scope, receive, self._max_body)
        call, path = await with_fresh_model(
            self._catalog,
            principal,
            lambda: prepare_responses(raw, endpoint, principal, self._catalog, self._guard),
        )
        return call, path, None

    async def _upload(
        self, endpoint: Endpoint, scope: Scope, receive: Receive, principal: Principal
    ) -> Prepared:
        declared = declared_length(scope)
        content_type = header(scope, b"content-type")
        scan, received, more = await scan_upload(
            receive, content_type, declared, self._max_upload, is_routing_field
        )
        model = await with_fresh_model(
            self._catalog, principal, lambda: resolve_model(self._catalog, principal, scan.fields)
        )
        check_model_type(model, endpoint)
        routing = extract_routing(routing_object(scan.routing_fields))
        if content_type is None:  # scan_upload refused a body without one
            raise InvalidRequest("An upload needs a Content-Type header.", param="content-type")
        upload = Upload(
            receive,
            UploadHead(scan),
            more=more,
            received=received,
            limit=self._max_upload,
            declared=declared,
            content_type=content_type.decode("latin-1"),
        )
        if any(key in routing for key in _REPEATING):
            await upload.read_whole()
        stream = scan.fields.get("stream", "").lower() == "true"
        # The body itself streams; ``payload`` holds the fields read, as JSON, for the hooks
        # that look at a call's body (limits, usage estimates).
        summary = orjson.dumps({**scan.fields, "model": model.model_id})
        n = scan.fields.get("n", "1")
        call = PreparedCall(
            model,
            summary,
            stream,
            False,
            routing,
            upload=upload,
            endpoint=endpoint,
            size=declared or 0,
            n=int(n) if n.isdigit() and int(n) > 0 else 1,
        )
        return call, endpoint.path, None if upload.replayable else upload.finished
