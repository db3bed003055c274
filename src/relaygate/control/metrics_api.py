"""GET /metrics: the Prometheus exposition of ``observability/metrics.py``.

Access: the bearer ``RELAYGATE_METRICS_TOKEN`` sees every workspace; an admin key sees
the series of its own workspace plus the process-wide ones. The token is compared in
constant time; a key goes through the same authentication (and auth brake) as ``/v2``.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from relaygate.auth import authenticate
from relaygate.errors import PermissionDenied
from relaygate.observability.metrics import Metrics

from .auth import runtime_of


def _is_token(authorization: str, token: str | None) -> bool:
    scheme, _, presented = authorization.partition(" ")
    return bool(
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    )


async def _workspace_shown(request: Request) -> str | None:
    """None: every workspace (the metrics token); else the admin key's workspace."""
    runtime = runtime_of(request)
    if _is_token(request.headers.get("authorization", ""), runtime.settings.metrics_token):
        return None
    principal = await authenticate(runtime.catalog, request.scope, runtime.auth_throttle)
    if not principal.is_admin:
        raise PermissionDenied("/metrics needs an admin key or the metrics token (RELAYGATE_METRICS_TOKEN).")
    return principal.workspace_id


WorkspaceShown = Annotated[str | None, Depends(_workspace_shown)]


def metrics_router(metrics: Metrics) -> APIRouter:
    """The ``/metrics`` route, rendering ``metrics``."""
    router = APIRouter(tags=["metrics"])

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def scrape(workspace_id: WorkspaceShown) -> Response:
        return Response(metrics.render(workspace_id), media_type=CONTENT_TYPE_LATEST)

    return router
