"""The long-stream load generator: many clients at once, each looping streamed chats on its own
kept-alive connection for a while, their starts spread over a ramp (started together, equal slow
streams stay in step: the servers would see 500 requests, then 500 events, in one burst every
100 ms, and time to first byte would measure the burst). It runs in its own process (never beside
a server it measures), reads its settings as JSON on stdin (the key stays out of the process list)
and prints its result as one JSON line.

    echo '{"url": "http://127.0.0.1:8001/v1/chat/completions", "authorization": "Bearer sk-bench",
           "body": "{...}", "clients": 500, "seconds": 10, "ramp": 2}' | python -m bench.stream_client
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import uvloop

from .http1 import HTTPError, build_request, request
from .load import Target, percentile

CONNECT_TIMEOUT = 10.0
STREAM_TIMEOUT = 30.0  # one whole stream; the slow upstream's takes about 2 s
SPARE_FILES = 64


@dataclass
class Tally:
    """What every client adds to as its streams end."""

    first_bytes: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    def error(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what[:300]


@dataclass
class ClientResult:
    clients: int
    ramp: float  # the clients' starts were spread over this many seconds
    seconds: float  # from the first connection to the last stream's end
    streams: int  # completed: status 200 and ending with [DONE]
    errors: int  # non-200 answers, cut or timed-out streams, streams without [DONE], failed connects
    first_error: str
    ttfb_p50_ms: float
    ttfb_p99_ms: float
    total_p50_ms: float
    client_cpu_s: float  # this process's user+sys CPU over the run
    client_cpu_share: float  # client_cpu_s / seconds: near 1.0 means one core saturated (the client limits)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _streams_on_one_connection(host: str, port: int, raw: bytes, deadline: float, tally: Tally) -> None:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
    try:
        while time.perf_counter() < deadline:
            timed = await asyncio.wait_for(request(reader, writer, raw), STREAM_TIMEOUT)
            if timed.status != 200 or not timed.body.rstrip().endswith(b"data: [DONE]"):
                tally.error(f"status {timed.status}: {timed.body[:200]!r}")
                continue
            tally.first_bytes.append(timed.first_byte)
            tally.totals.append(timed.total)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _client(target: Target, delay: float, seconds: float, tally: Tally) -> None:
    """After `delay`, loops streamed chats for `seconds`; a failed connection counts an error and is
    replaced."""
    host, port, path = target.host_port_path
    raw = build_request(host, port, path, target.body, target.authorization)
    await asyncio.sleep(delay)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            await _streams_on_one_connection(host, port, raw, deadline, tally)
        except (OSError, HTTPError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            tally.error(f"{type(e).__name__}: {e}")
            await asyncio.sleep(0.05)
        except TimeoutError:
            tally.error(f"no whole answer within {STREAM_TIMEOUT:.0f} s")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_clients(target: Target, clients: int, seconds: float, ramp: float) -> ClientResult:
    """`clients` clients, started evenly over `ramp` seconds (0: all at once), each looping for
    `seconds`."""
    tally = Tally()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(_client(target, i * ramp / clients, seconds, tally) for i in range(clients)))
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    first_bytes, totals = sorted(tally.first_bytes), sorted(tally.totals)
    return ClientResult(
        clients=clients,
        ramp=ramp,
        seconds=elapsed,
        streams=len(totals),
        errors=tally.errors,
        first_error=tally.first_error,
        ttfb_p50_ms=percentile(first_bytes, 50) * 1000,
        ttfb_p99_ms=percentile(first_bytes, 99) * 1000,
        total_p50_ms=percentile(totals, 50) * 1000,
        client_cpu_s=cpu,
        client_cpu_share=cpu / elapsed if elapsed else 0.0,
    )


def raise_file_limit(needed: int) -> None:
    """Lifts the soft limit on open files towards the hard one when `needed` would not fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def main() -> None:
    settings = json.loads(sys.stdin.read())
    target = Target(settings["url"], settings["authorization"], settings["body"].encode())
    clients, seconds, ramp = int(settings["clients"]), float(settings["seconds"]), float(settings["ramp"])
    raise_file_limit(clients + SPARE_FILES)
    result = uvloop.run(run_clients(target, clients, seconds, ramp))
    print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
