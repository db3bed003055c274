"""Serving on uvicorn: the bounded httptools protocol and uvicorn's graceful shutdown
(``drain.py`` chains in front of its signal handlers)."""

from __future__ import annotations

import math

from relaygate.serving.logs import uvicorn_config
from relaygate.settings import Settings


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "relaygate.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="relaygate.security.http_protocol:BoundedHttpToolsProtocol",  # bounded request head
        lifespan="on",
        access_log=False,
        server_header=False,
        # X-Forwarded-* is applied by the application itself (``app.assemble``), only where
        # it is read: uvicorn's middleware would wrap every router call for nothing.
        proxy_headers=False,
        log_level=settings.log_level,
        log_config=uvicorn_config(settings.log_level),
        timeout_graceful_shutdown=math.ceil(settings.drain_timeout_s),  # see drain.py
    )
