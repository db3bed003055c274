"""relaygate's own log lines come out like the server's, at RELAYGATE_LOG_LEVEL."""

from __future__ import annotations

import os
from collections.abc import Callable

from support.server import RelaygateServer

ServerFactory = Callable[..., RelaygateServer]

REDIS_URL = "redis://127.0.0.1:6379/0"
SERVER_LINES = {"granian": "INFO:     Started worker-1", "uvicorn": "INFO:     Application startup complete."}


def test_info_lines_are_logged_with_a_level_prefix(relaygate_factory: ServerFactory) -> None:
    server = relaygate_factory(RELAYGATE_REDIS_URL=REDIS_URL, RELAYGATE_LOG_LEVEL="info")
    log = server.log()
    assert f"INFO:     Redis is reachable at {REDIS_URL}" in log
    assert SERVER_LINES[os.environ.get("RELAYGATE_SERVER", "uvicorn")] in log  # the server's, same format


def test_the_log_level_setting_applies_to_relaygate_lines(relaygate_factory: ServerFactory) -> None:
    server = relaygate_factory(RELAYGATE_REDIS_URL=REDIS_URL, RELAYGATE_LOG_LEVEL="warning")
    assert "Redis is reachable" not in server.log()
