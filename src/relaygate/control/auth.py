"""The control plane's authentication: an admin key of the workspace, or for the few
reads an application makes with its router key (``READS_FOR_ANY_KEY``), any key of it.

``admission.py`` admits every ``/v2`` request with ``admit`` before its body is read and
leaves the caller on the scope; ``admin`` and ``member``, the routes' dependencies, take
it from there.
"""

from __future__ import annotations

from fastapi import Request

from relaygate.auth import authenticate
from relaygate.catalog import Principal
from relaygate.errors import PermissionDenied
from relaygate.runtime import Runtime
from relaygate.types import Scope

PRINCIPAL = "relaygate.principal"  # the scope key of the admitted caller
# GETs under these paths take any key of the workspace: an application reads the
# deployments it calls with its router key (the SDKs' deployments.list, list_versions).
READS_FOR_ANY_KEY = ("/v2/deployments",)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _for_any_key(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope.get("method") == "GET" and any(
        path == prefix or path.startswith(prefix + "/") for prefix in READS_FOR_ANY_KEY
    )


def _needs_admin() -> PermissionDenied:
    return PermissionDenied("This endpoint needs an admin key; router keys can only call /v3/router.")


async def admit(runtime: Runtime, scope: Scope) -> Principal:
    """The caller, if it holds an admin key, or any key for ``READS_FOR_ANY_KEY`` (401 and
    the auth brake's 429 otherwise, 403 for a router key)."""
    principal = await authenticate(runtime.catalog, scope, runtime.auth_throttle)
    if not principal.is_admin and not _for_any_key(scope):
        raise _needs_admin()
    return principal


async def member(request: Request) -> Principal:
    """Any key of the workspace (the routes of ``READS_FOR_ANY_KEY``)."""
    admitted: Principal | None = request.scope.get(PRINCIPAL)
    if admitted is not None:
        return admitted
    return await admit(runtime_of(request), request.scope)  # a route outside /v2


async def admin(request: Request) -> Principal:
    principal = await member(request)
    if not principal.is_admin:
        raise _needs_admin()
    return principal
