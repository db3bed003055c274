"""One webhook delivery attempt: the event's JSON POSTed, signed, through the upstream
transport (the SSRF rules apply to the address it connects to, no redirects, bounded time)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from relaygate.errors import UpstreamRefused
from relaygate.upstream.transport import Transport, TransportError

from .signing import HEADER, signature

TIMEOUT_S = 10.0
MAX_ERROR = 300


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status: int | None
    error: str | None
    ms: float

    def as_log(self, at: str) -> dict[str, Any]:
        return {"at": at, "status": self.status, "error": self.error, "ms": round(self.ms, 1)}


async def post(transport: Transport, url: str, secret: str, event_id: str, body: bytes) -> Attempt:
    """POST ``body`` to ``url`` signed with ``secret``; a 2xx answer is a delivery."""
    started = time.perf_counter()
    headers = [
        ("content-type", "application/json"),
        ("user-agent", "relaygate-alerts"),
        ("x-relaygate-event", event_id),
        (HEADER.lower(), signature(secret, int(time.time()), body)),
    ]
    try:
        response = await transport.send("POST", url, headers, body, stream=True, total_timeout=TIMEOUT_S)
        try:
            status = response.status
        finally:
            await response.aclose()
    except TransportError as exc:
        return Attempt(False, None, f"not reached: {exc}"[:MAX_ERROR], _ms(started))
    except UpstreamRefused as exc:
        return Attempt(False, None, f"address not allowed: {exc.message}"[:MAX_ERROR], _ms(started))
    ok = 200 <= status < 300
    return Attempt(ok, status, None if ok else f"answered HTTP {status}", _ms(started))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
