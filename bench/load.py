"""Load generation: wrk (preferred) or a small asyncio fallback, and the streaming first-byte probe.

Every run is bounded in time; all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .http1 import HTTPError, build_request, request

WRK_INSTALL_HINT = (
    "wrk not found on PATH; install it with `apt-get install -y wrk` (using the asyncio fallback)"
)
WRK_MARKER = "WRKJSON "
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = [==[%(authorization)s]==]

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"mean_us":%%.1f,"max_us":%%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


@dataclass
class Target:
    """One endpoint under test: where to POST, with what key and body."""

    url: str
    authorization: str
    body: bytes

    @property
    def host_port_path(self) -> tuple[str, int, str]:
        parts = urlsplit(self.url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"benchmark traffic stays on 127.0.0.1, not {parts.hostname}")
        return "127.0.0.1", parts.port or 80, parts.path


@dataclass
class LoadResult:
    generator: str
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_load(target: Target, connections: int, seconds: float, threads: int | None = None) -> LoadResult:
    if have_wrk():
        return run_wrk(target, connections, seconds, threads or min(2, connections))
    return asyncio.run(run_fallback(target, connections, seconds))


# --- wrk -----------------------------------------------------------------------------------------


def run_wrk(target: Target, connections: int, seconds: float, threads: int) -> LoadResult:
    target.host_port_path  # noqa: B018 - validates the host
    script = WRK_SCRIPT % {
        "body": target.body.decode(),
        "authorization": target.authorization,
        "marker": WRK_MARKER,
    }
    with tempfile.TemporaryDirectory(prefix="relaygate-bench-") as folder:
        script_path = Path(folder) / "post.lua"
        script_path.write_text(script)
        argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s"]
        argv += ["--timeout", "10s", "--latency", "-s", str(script_path), target.url]
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith(WRK_MARKER)), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stdout}\n{completed.stderr}")
    data = json.loads(line[len(WRK_MARKER) :])
    elapsed = data["duration_us"] / 1e6
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        generator="wrk",
        connections=connections,
        requests=data["requests"],
        seconds=elapsed,
        rps=data["requests"] / elapsed if elapsed else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
        errors=errors,
    )


# --- asyncio fallback ---------------------------------------------------------------------------


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def _connection_loop(
    target: Target, deadline: float, latencies: list[float], errors: list[int]
) -> None:
    host, port, path = target.host_port_path
    raw = build_request(host, port, path, target.body, target.authorization)
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            errors.append(1)
            await asyncio.sleep(0.01)
            continue
        try:
            while time.perf_counter() < deadline:
                timed = await request(reader, writer, raw)
                latencies.append(timed.total)
                if timed.status != 200:
                    errors.append(1)
        except (OSError, HTTPError, asyncio.IncompleteReadError, ValueError):
            errors.append(1)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def run_fallback(target: Target, connections: int, seconds: float) -> LoadResult:
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    loops = [_connection_loop(target, deadline, latencies, errors) for _ in range(connections)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*loops), seconds + 10)
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return LoadResult(
        generator="asyncio-fallback",
        connections=connections,
        requests=len(ordered),
        seconds=elapsed,
        rps=len(ordered) / elapsed if elapsed else 0.0,
        p50_ms=percentile(ordered, 50) * 1000,
        p90_ms=percentile(ordered, 90) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        mean_ms=statistics.fmean(ordered) * 1000 if ordered else 0.0,
        errors=len(errors),
    )


# --- streaming first byte -----------------------------------------------------------------------


@dataclass
class StreamResult:
    requests: int
    ttfb_p50_ms: float
    ttfb_p99_ms: float
    total_p50_ms: float
    errors: int
    first_error: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _stream_probe(target: Target, seconds: float, max_requests: int) -> StreamResult:
    host, port, path = target.host_port_path
    raw = build_request(host, port, path, target.body, target.authorization)
    first_bytes: list[float] = []
    totals: list[float] = []
    errors = 0
    first_error = ""
    deadline = time.perf_counter() + seconds
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline and len(totals) < max_requests:
            timed = await asyncio.wait_for(request(reader, writer, raw), 30)
            if timed.status != 200 or not timed.body.rstrip().endswith(b"data: [DONE]"):
                errors += 1
                first_error = first_error or f"status {timed.status}: {timed.body[:300]!r}"
                continue
            first_bytes.append(timed.first_byte)
            totals.append(timed.total)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    first_bytes.sort()
    totals.sort()
    return StreamResult(
        requests=len(totals),
        ttfb_p50_ms=percentile(first_bytes, 50) * 1000,
        ttfb_p99_ms=percentile(first_bytes, 99) * 1000,
        total_p50_ms=percentile(totals, 50) * 1000,
        errors=errors,
        first_error=first_error,
    )


def run_stream_probe(target: Target, seconds: float, max_requests: int = 20_000) -> StreamResult:
    """Sequential streaming requests on one kept-alive connection (concurrency 1) for `seconds`."""
    return asyncio.run(_stream_probe(target, seconds, max_requests))
