"""The control plane's authentication: an admin key of the workspace.

``admission.py`` admits every ``/v2`` request with ``admit`` before its body is read and
leaves the caller on the scope; ``admin``, the routes' dependency, takes it from there.
"""

from __future__ import annotations

from fastapi import Request

from relaygate.auth import authenticate
from relaygate.catalog import Principal
from relaygate.errors import PermissionDenied
from relaygate.runtime import Runtime
from relaygate.types import Scope

PRINCIPAL = "relaygate.principal"  # the scope key of the admitted caller


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def admit(runtime: Runtime, scope: Scope) -> Principal:
    """The caller, if it holds an admin key (401 and the auth brake's 429 otherwise, 403 for a router key)."""
    principal = await authenticate(runtime.catalog, scope, runtime.auth_throttle)
    if not principal.is_admin:
        raise PermissionDenied("This endpoint needs an admin key; router keys can only call /v3/router.")
    return principal


async def admin(request: Request) -> Principal:
    admitted: Principal | None = request.scope.get(PRINCIPAL)
    if admitted is not None:
        return admitted
    return await admit(runtime_of(request), request.scope)  # a route outside /v2
