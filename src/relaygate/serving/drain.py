"""Graceful shutdown: what happens between SIGTERM and the end of the process.

1. The signal arrives: ``draining`` turns true at once, so ``/health/ready`` answers 503
   and load balancers stop sending new work here.
2. After ``delay`` seconds (``RELAYGATE_DRAIN_DELAY``, default 0: long enough for a load
   balancer to notice the 503) the signal is handed to uvicorn, which closes the listener
   and lets every in-flight request and stream finish, for at most
   ``RELAYGATE_DRAIN_TIMEOUT`` seconds (its ``timeout_graceful_shutdown``).
3. uvicorn then runs the lifespan shutdown: ``Runtime.stop`` flushes the usage queue.

uvicorn owns the SIGTERM/SIGINT handlers; this module chains in front of them rather
than replacing them, so uvicorn's own shutdown (and a second signal forcing it) works
unchanged. A second signal during the delay is passed on at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("relaygate.serving.drain")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_Handler = Callable[[int, FrameType | None], Any]


class Drain:
    def __init__(self, delay: float) -> None:
        self._delay = delay
        self.started_at: float | None = None

    @property
    def draining(self) -> bool:
        return self.started_at is not None

    def begin(self) -> None:
        if self.started_at is None:
            self.started_at = time.monotonic()
            log.warning("shutting down: readiness is now 503; draining in-flight requests")

    def install(self) -> None:
        """Put ourselves in front of the server's signal handlers (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            previous = signal.getsignal(sig)
            if callable(previous):
                signal.signal(sig, self._chained(loop, previous))

    def _chained(self, loop: asyncio.AbstractEventLoop, previous: _Handler) -> _Handler:
        def handler(signum: int, frame: FrameType | None) -> None:
            first = not self.draining
            self.begin()
            if first and self._delay > 0:
                loop.call_soon_threadsafe(loop.call_later, self._delay, previous, signum, None)
            else:
                previous(signum, frame)

        return handler
