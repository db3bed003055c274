"""Serving on granian: RSGI workers, bounded request heads, and the drain on SIGTERM.

granian's main process owns the signals. On the first SIGTERM (or SIGINT) the workers get
SIGUSR1 at once: readiness answers 503, and each starts its drain timer (``rsgi_app.py``).
The stop itself is held back for ``RELAYGATE_DRAIN_DELAY`` seconds, so load balancers
move away while requests are still served; then granian stops its workers as usual
(SIGTERM each), they stop accepting and let their requests finish, and the drain timer
cancels what is still running after ``RELAYGATE_DRAIN_TIMEOUT``. A second signal during
the delay stops at once.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from granian.constants import HTTPModes, Interfaces, Loops
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server.mp import MPServer

from relaygate.serving.logs import granian_config
from relaygate.settings import Settings

TARGET = "relaygate.serving.rsgi_app:create_rsgi_app"
_MIN_HEAD_BUFFER = 8192  # hyper refuses a smaller read buffer
_STOP_GRACE_SECONDS = 15  # after the drain timeout: the usage flush and the runtime's stop


class DrainingServer(MPServer):
    def __init__(self, *args: Any, drain_delay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drain_delay = drain_delay
        self._delayed: threading.Timer | None = None

    def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
        stop: Callable[[], None] = super().signal_handler_interrupt
        if self._delayed is not None:
            stop()  # a second signal
            return
        for worker in self.wrks:
            pid = worker.inner.pid
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGUSR1)
        self._delayed = threading.Timer(self._drain_delay, stop)
        self._delayed.daemon = True
        self._delayed.start()


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    # Workers are forked and inherit this: a SIGUSR1 before a worker set its handler is harmless.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    DrainingServer(
        TARGET,
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(max_buffer_size=max(settings.max_header_bytes, _MIN_HEAD_BUFFER)),
        log_level=LogLevels(settings.log_level),
        log_dictconfig=granian_config(settings.log_level),
        log_access=False,
        workers_kill_timeout=math.ceil(settings.drain_timeout_s) + _STOP_GRACE_SECONDS,
        drain_delay=settings.drain_delay_s,
    ).serve()
