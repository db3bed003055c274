"""The ASGI application: the raw data plane in front, the control plane behind it.

``/v3/router/*`` (and ``/v2/router/*``, the hosted API's earlier path) go straight to
the data plane without touching a framework; everything else goes to FastAPI.
The lifespan starts and stops every component of the process (see ``runtime.py``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.types import ASGIApp

from relaygate.control.app import build_control_app
from relaygate.control.security_headers import with_cors
from relaygate.router.app import PREFIXES
from relaygate.runtime import Runtime
from relaygate.settings import Settings
from relaygate.types import Receive, Scope, Send

log = logging.getLogger("relaygate")
_PREFIX_LENGTH = len(PREFIXES[0])
assert all(len(prefix) == _PREFIX_LENGTH for prefix in PREFIXES)


class RelaygateApp:
    def __init__(self, runtime: Runtime, control: FastAPI) -> None:
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


def assemble(settings: Settings) -> tuple[Runtime, ASGIApp]:
    """The process's runtime and the ASGI application in front of it."""
    runtime = Runtime.build(settings)
    return runtime, with_cors(RelaygateApp(runtime, build_control_app(runtime)), settings.cors_origins)


def create_app(settings: Settings | None = None) -> ASGIApp:
    """uvicorn's entry (``relaygate.app:create_app``); the lifespan starts the runtime."""
    return assemble(settings or Settings.from_env())[1]
