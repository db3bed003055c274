"""granian's entry (``relaygate.serving.rsgi_app:create_rsgi_app``): one per worker process.

- ``__rsgi_init__`` starts the runtime (store, catalog, usage writer, background tasks)
  before the worker takes its first request; a failure there ends the worker, which
  ends the server, as a failed uvicorn lifespan does.
- ``__rsgi__`` serves a request through the RSGI bridge and keeps its task in the
  in-flight set. A head past ``RELAYGATE_MAX_HEADER_BYTES`` gets 431 first: hyper
  bounds the buffer of a head still arriving (``granian_server.py``), but one that
  arrives whole within a read is parsed whatever its size, as under uvicorn.
- SIGUSR1, sent by the main process on the first SIGTERM (see ``granian_server.py``),
  starts the drain: readiness answers 503 at once, and a timer cancels whatever is
  still running ``RELAYGATE_DRAIN_DELAY`` + ``RELAYGATE_DRAIN_TIMEOUT`` seconds later
  (the cancelled calls still record their usage). That timer is what bounds the drain:
  on its SIGTERM, granian stops accepting and waits for every open exchange to end
  before it hands the loop back, however long that takes.
- ``__rsgi_del__`` runs after that: the runtime stops and flushes the usage queue.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from granian.rsgi import HTTPProtocol, Scope

from relaygate.app import assemble
from relaygate.security.request_head import head_size, refusal_body
from relaygate.serving.rsgi_bridge import RsgiExchange, asgi_scope
from relaygate.settings import Settings

log = logging.getLogger("relaygate")

_CANCEL_GRACE_SECONDS = 5.0
_REFUSAL_HEADERS = [("content-type", "application/json"), ("connection", "close")]


class RsgiApp:
    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings.from_env()
        self.runtime, self.app = assemble(settings)
        self._head_limit = settings.max_header_bytes
        self._head_refusal = refusal_body(self._head_limit)
        self._drain_timeout = settings.drain_timeout_s
        self._drain_delay = settings.drain_delay_s
        self._inflight: dict[asyncio.Task[object], None] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        try:
            loop.run_until_complete(self.runtime.start(chain_signals=False))
        except Exception as exc:
            log.error("relaygate could not start: %s", exc)
            raise SystemExit(3) from None
        loop.add_signal_handler(signal.SIGUSR1, self.begin_drain)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self._shutdown())

    async def __rsgi__(self, scope: Scope, proto: HTTPProtocol) -> None:
        asgi = asgi_scope(scope)
        if self._head_too_large(scope, asgi["headers"]):
            proto.response_bytes(431, _REFUSAL_HEADERS, self._head_refusal)
            return
        exchange = RsgiExchange(proto, scope)
        task = asyncio.current_task(self._loop)
        if task is None:  # granian runs each request in its own task
            raise RuntimeError("an RSGI request outside a task")
        self._inflight[task] = None
        try:
            await self.app(asgi, exchange.receive, exchange.send)
        except asyncio.CancelledError:
            if not self.runtime.drain.draining:
                raise
            task.uncancel()  # cut by the drain timeout: this exchange ends here, quietly
        finally:
            exchange.finish()
            del self._inflight[task]

    def _head_too_large(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> bool:
        # The path is percent-decoded here, so a percent-encoded target counts a little short.
        target = len(scope.path) + (len(scope.query_string) + 1 if scope.query_string else 0)
        return head_size(len(scope.method), target, headers) > self._head_limit

    def begin_drain(self) -> None:
        if self.runtime.drain.draining or self._loop is None:
            return
        self.runtime.drain.begin()
        self._loop.call_later(self._drain_delay + self._drain_timeout, self._cancel_inflight)

    def _cancel_inflight(self) -> list[asyncio.Task[object]]:
        tasks = list(self._inflight)
        if tasks:
            log.warning(
                "drain timeout (%g s): cancelling %d requests still running", self._drain_timeout, len(tasks)
            )
        for task in tasks:
            task.cancel()
        return tasks

    async def _shutdown(self) -> None:
        self.begin_drain()  # a SIGTERM that came to this worker alone
        if self._inflight:  # granian took nothing new since it stopped: this set only shrinks
            await asyncio.wait(list(self._inflight), timeout=_CANCEL_GRACE_SECONDS)
        tasks = self._cancel_inflight()
        if tasks:
            await asyncio.wait(tasks, timeout=_CANCEL_GRACE_SECONDS)
        await self.runtime.stop()


def create_rsgi_app() -> RsgiApp:
    return RsgiApp()
