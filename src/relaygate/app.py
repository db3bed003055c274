"""The ASGI application: the raw data plane in front, the control plane behind it.

``/v3/router/*`` (and ``/v2/router/*``, the hosted API's earlier path) go straight to
the data plane without touching a framework; everything else goes to FastAPI.
The lifespan starts and stops every component of the process (see ``runtime.py``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from relaygate.control.app import build_control_app
from relaygate.control.security_headers import with_cors
from relaygate.router.app import PREFIXES
from relaygate.runtime import Runtime
from relaygate.settings import Settings
from relaygate.types import Receive, Scope, Send

log = logging.getLogger("relaygate")
_PREFIX_LENGTH = len(PREFIXES[0])
if any(len(prefix) != _PREFIX_LENGTH for prefix in PREFIXES):
    raise RuntimeError("the router's path prefixes must have one length: dispatch slices by it")


class RelaygateApp:
    def __init__(self, runtime: Runtime, control: ASGIApp) -> None:
        self.runtime = runtime
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path[:_PREFIX_LENGTH] in PREFIXES and path[_PREFIX_LENGTH : _PREFIX_LENGTH + 1] == "/":
                await self.runtime.router(scope, receive, send, path[_PREFIX_LENGTH:])
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


def _behind_proxies(app: ASGIApp) -> ASGIApp:
    """``app`` seeing the client's address and scheme as a trusted proxy gives them
    (``FORWARDED_ALLOW_IPS``), by uvicorn's middleware, whichever server runs it."""
    middleware: Any = ProxyHeadersMiddleware  # typed with uvicorn's narrower ASGI types
    wrapped: ASGIApp = middleware(app, trusted_hosts=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))
    return wrapped


def assemble(settings: Settings) -> tuple[Runtime, ASGIApp]:
    """The process's runtime and the ASGI application in front of it."""
    runtime = Runtime.build(settings)
    # The router needs neither the forwarded address nor scheme on its hot path; it asks
    # ``client_address.py`` when it does (failed authentications).
    control = _behind_proxies(build_control_app(runtime))
    return runtime, with_cors(RelaygateApp(runtime, control), settings.cors_origins)


def create_app(settings: Settings | None = None) -> ASGIApp:
    """uvicorn's entry (``relaygate.app:create_app``); the lifespan starts the runtime."""
    return assemble(settings or Settings.from_env())[1]
