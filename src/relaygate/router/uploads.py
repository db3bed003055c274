"""Preparing an upload's call: a multipart body is not read whole before it is sent.

Its body is scanned only up to its first file (``model`` and relaygate's routing fields,
``form_routing.py``) and then streamed to the upstream (``multipart.py``). The result is
an ordinary ``PreparedCall`` that the forwarder sends like any other.
"""

from __future__ import annotations

import asyncio

from relaygate.catalog import Catalog, Principal
from relaygate.errors import InvalidRequest
from relaygate.router.asgi import header
from relaygate.router.call import PreparedCall, extract_routing, resolve_model, with_fresh_model
from relaygate.router.capabilities import check_model_type
from relaygate.router.endpoints import Endpoint
from relaygate.router.form_routing import is_routing_field, routing_object
from relaygate.router.multipart import Upload, UploadHead, scan_upload
from relaygate.types import Receive, Scope
from relaygate.usage.identity import Attribution

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


async def prepare_upload(
    endpoint: Endpoint,
    scope: Scope,
    receive: Receive,
    principal: Principal,
    catalog: Catalog,
    max_upload: int,
) -> tuple[PreparedCall, asyncio.Event | None]:
    """The call of a multipart upload, its body still streaming; and an event set once the
    client's body was read whole (None: it was read before the call was made)."""
    declared = declared_length(scope)
    content_type = header(scope, b"content-type")
    scan, received, more = await scan_upload(receive, content_type, declared, max_upload, is_routing_field)
    model = await with_fresh_model(catalog, principal, lambda: resolve_model(catalog, principal, scan.fields))
    check_model_type(model, endpoint)
    routing = extract_routing(routing_object(scan.routing_fields))
    if content_type is None:  # scan_upload refused a body without one
        raise InvalidRequest("An upload needs a Content-Type header.", param="content-type")
    upload = Upload(
        receive,
        UploadHead(scan),
        more=more,
        received=received,
        limit=max_upload,
        declared=declared,
        content_type=content_type.decode("latin-1"),
    )
    if any(key in routing for key in _REPEATING):
        await upload.read_whole()
    n = scan.fields.get("n", "1")
    call = PreparedCall(
        endpoint,
        model,
        scan.fields,  # the form fields read before the first file
        scan.fields.get("stream", "").lower() == "true",
        routing,
        Attribution.of(routing, header(scope, b"x-relaygate-identity")),
        size=declared or 0,
        n=int(n) if n.isdigit() and int(n) > 0 else 1,
        upload=upload,
    )
    return call, None if upload.replayable else upload.finished
