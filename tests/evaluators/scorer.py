"""A remote scorer for ``http_eval`` tests: a real HTTP server on loopback.

``POST /score`` answers ``{"score": len(output), "passed": output == expected, "reason"}``;
``/fail`` answers 500, ``/slow`` waits longer than any test's timeout, ``/large`` answers
more than relaygate reads. Every request is kept (its JSON body and headers).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from web_search.http_server import ThreadedServer


@dataclass
class Received:
    body: Any
    headers: dict[str, str]


@dataclass
class Scorer:
    received: list[Received] = field(default_factory=list)
    server: ThreadedServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    async def _keep(self, request: Request) -> dict[str, Any]:
        body = await request.json()
        self.received.append(Received(body, dict(request.headers)))
        return dict(body)

    async def score(self, request: Request) -> Response:
        body = await self._keep(request)
        output, expected = body.get("output", ""), body.get("expected")
        return JSONResponse(
            {"score": len(output), "passed": output == expected, "reason": f"{len(output)} chars"}
        )

    async def fail(self, request: Request) -> Response:
        await self._keep(request)
        return JSONResponse({"error": "scorer broke"}, status_code=500)

    async def slow(self, request: Request) -> Response:
        await self._keep(request)
        await asyncio.sleep(5)
        return JSONResponse({"score": 1})

    async def large(self, request: Request) -> Response:
        await self._keep(request)
        return JSONResponse({"score": 1, "reason": "x" * 100_000})

    def start(self) -> Scorer:
        routes = [
            Route(f"/{name}", getattr(self, name), methods=["POST"])
            for name in ("score", "fail", "slow", "large")
        ]
        self.server = ThreadedServer(Starlette(routes=routes)).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
