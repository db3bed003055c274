"""Helpers shared by the security tests: usage rows, open sockets of a server process."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.server import RelaygateServer

ServerFactory = Callable[..., RelaygateServer]


def usage_rows(
    server: RelaygateServer, request_id: str | None = None, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """The usage events the server stored (waits for the batched writer when a request id is given)."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(server.home / "relaygate.db") as db:
            db.row_factory = sqlite3.Row
            rows = [dict(row) for row in db.execute("SELECT * FROM usage_events")]
        if request_id is None or any(row["request_id"] == request_id for row in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"no usage event for {request_id}")
        time.sleep(0.1)


def open_sockets(server: RelaygateServer) -> int:
    assert server.process is not None
    fd_dir = Path(f"/proc/{server.process.pid}/fd")
    count = 0
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd).startswith("socket:"):
                count += 1
        except FileNotFoundError:
            continue
    return count
