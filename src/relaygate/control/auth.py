"""The control plane's authentication: an admin key of the workspace."""

from __future__ import annotations

from fastapi import Request

from relaygate.catalog import Principal
from relaygate.errors import PermissionDenied
from relaygate.router.app import authenticate
from relaygate.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def admin(request: Request) -> Principal:
    runtime = runtime_of(request)
    principal = authenticate(runtime.catalog, request.scope, runtime.router.auth_throttle)
    if not principal.is_admin:
        raise PermissionDenied("This endpoint needs an admin key; router keys can only call /v3/router.")
    return principal
