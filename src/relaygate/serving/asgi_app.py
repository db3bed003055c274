"""The ASGI application both servers run: the raw data plane in front, the control plane behind it.

``/v3/router/*`` (and ``/v2/router/*``, the hosted API's earlier path) go straight to
the data plane without touching a framework, and so do a deployment's invoke, stream and
get_config (``/v2/deployments/invoke|stream|get_config``, through the same machinery);
everything else goes to FastAPI.
The lifespan starts and stops every component of the process (``runtime.py``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from relaygate.deployments.invoke_app import PATHS as DEPLOYMENT_PATHS
from relaygate.deployments.invoke_app import DeploymentCalls
from relaygate.router.app import PREFIXES, RouterApp
from relaygate.runtime import Runtime
from relaygate.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("relaygate")
_PREFIX_LENGTH = len(PREFIXES[0])
if any(len(prefix) != _PREFIX_LENGTH for prefix in PREFIXES):
    raise RuntimeError("the router's path prefixes must have one length: dispatch slices by it")


class RelaygateApp:
    def __init__(
        self, runtime: Runtime, router: RouterApp, deployments: DeploymentCalls, control: ASGIApp
    ) -> None:
        self.runtime = runtime
        self.router = router
        self.deployments = deployments
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path[:_PREFIX_LENGTH] in PREFIXES and path[_PREFIX_LENGTH : _PREFIX_LENGTH + 1] == "/":
                await self.router(scope, receive, send, path[_PREFIX_LENGTH:])
                return
            if path in DEPLOYMENT_PATHS and scope["method"] == "POST":  # GET .../invoke: a key "invoke"
                await self.router.serve(scope, receive, send, path, self.deployments)
                return
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.control(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.runtime.start()
                except Exception as exc:
                    log.error("relaygate could not start: %s", exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.runtime.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def behind_proxies(app: ASGIApp) -> ASGIApp:
    """``app`` seeing the client's address and scheme as a trusted proxy gives them
    (``FORWARDED_ALLOW_IPS``), by uvicorn's middleware, whichever server runs it."""
    middleware: Any = ProxyHeadersMiddleware  # typed with uvicorn's narrower ASGI types
    wrapped: ASGIApp = middleware(app, trusted_hosts=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))
    return wrapped
