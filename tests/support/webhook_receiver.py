"""A webhook receiver for the alerts' tests: a real HTTP server on loopback.

``POST /hook`` keeps each delivery (raw body, headers) and answers 200, or 500 for the
first ``fail_first`` deliveries. ``wait_for`` waits until a delivery matches.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web_search.http_server import ThreadedServer


@dataclass
class Delivery:
    raw: bytes
    headers: dict[str, str]
    status: int  # what the receiver answered

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))


@dataclass
class WebhookReceiver:
    fail_first: int = 0
    received: list[Delivery] = field(default_factory=list)
    server: ThreadedServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.base_url}/hook"

    async def _hook(self, request: Request) -> Response:
        raw = await request.body()
        with self._lock:
            status = 500 if self.fail_first > 0 else 200
            self.fail_first = max(0, self.fail_first - 1)
            self.received.append(Delivery(raw, dict(request.headers), status))
        return Response("ok" if status == 200 else "broken", status_code=status)

    def start(self) -> WebhookReceiver:
        self.server = ThreadedServer(Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def accepted(self, match: Callable[[dict[str, Any]], bool] = lambda _: True) -> list[Delivery]:
        with self._lock:
            return [d for d in self.received if d.status == 200 and match(d.body)]

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 15.0, count: int = 1
    ) -> list[Delivery]:
        """The accepted deliveries ``match`` takes, once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.accepted(match)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"no webhook delivery matched in {timeout} s; got {[d.body for d in self.received]}"
        )
