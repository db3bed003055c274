"""The long-stream scenario: many slow streams at once against one side, with its server's CPU per
stream and the peak RSS of its process tree; the clients run in their own process
(`bench.stream_client`)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .load import Target
from .memory import MB, PeakRss
from .processes import BenchError, cpu_seconds
from .sides import LABELS, PASSTHROUGH, RELAYGATE, STOCK
from .upstream import SLOW_EVENTS, SLOW_INTERVAL

ROOT = Path(__file__).resolve().parent.parent
# Issue 22's targets for relaygate against the stock pass-through (benchmark figures, not assertions)
CPU_TARGET = 1.3  # CPU per stream, relaygate / stock pass-through
TTFB_P99_TARGET_MS = 30.0  # TTFB p99, relaygate minus stock pass-through
TREE_TARGET_MB = 180.0  # peak RSS of relaygate's whole process tree


@dataclass
class LongStreamResult:
    clients: int
    ramp: float
    seconds: float
    streams: int
    errors: int
    first_error: str
    ttfb_p50_ms: float
    ttfb_p99_ms: float
    total_p50_ms: float
    client_cpu_s: float
    client_cpu_share: float
    cpu_us_per_stream: float | None  # the server tree's user+sys CPU over the run / streams completed
    peak_rss_mb: float | None  # the highest summed RSS of the server tree, sampled every 100 ms
    peak_rss_by_process_mb: dict[str, float]  # "pid name" -> its RSS at that peak

    @property
    def requests(self) -> int:
        return self.streams

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _run_client(target: Target, clients: int, seconds: float, ramp: float) -> dict[str, Any]:
    settings = {
        "url": target.url,
        "authorization": target.authorization,
        "body": target.body.decode(),
        "clients": clients,
        "seconds": seconds,
        "ramp": ramp,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "bench.stream_client"],
        input=json.dumps(settings),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=ramp + seconds + 90,  # the last streams' end, every stream bounded by its timeout
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"the stream client failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


def measure(target: Target, pid: int | None, clients: int, seconds: float, ramp: float) -> LongStreamResult:
    """`clients` clients looping streamed chats on `target` for `seconds` each (started over
    `ramp`), while the CPU and the RSS of `pid`'s process tree are read."""
    if pid is None:
        client = _run_client(target, clients, seconds, ramp)
        return LongStreamResult(**client, cpu_us_per_stream=None, peak_rss_mb=None, peak_rss_by_process_mb={})
    before = cpu_seconds(pid)
    with PeakRss(pid) as peak:
        client = _run_client(target, clients, seconds, ramp)
    spent = cpu_seconds(pid) - before
    streams = int(client["streams"])
    return LongStreamResult(
        **client,
        cpu_us_per_stream=spent / streams * 1e6 if streams else None,
        peak_rss_mb=peak.peak_bytes / MB,
        peak_rss_by_process_mb=peak.at_peak,
    )


@dataclass
class LongStreams:
    """The scenario's results by side, and relaygate's against the two pass-throughs."""

    clients: int
    seconds: float
    ramp: float
    results: dict[str, LongStreamResult] = field(default_factory=dict)

    def against(self, base: str) -> dict[str, float | None]:
        """relaygate against `base`: CPU per stream as a ratio, times to first byte as differences."""
        mine, theirs = self.results.get(RELAYGATE), self.results.get(base)
        if mine is None or theirs is None:
            return {}
        ratio = None
        if mine.cpu_us_per_stream is not None and theirs.cpu_us_per_stream:
            ratio = mine.cpu_us_per_stream / theirs.cpu_us_per_stream
        return {
            "cpu_per_stream_ratio": ratio,
            "ttfb_p50_added_ms": mine.ttfb_p50_ms - theirs.ttfb_p50_ms,
            "ttfb_p99_added_ms": mine.ttfb_p99_ms - theirs.ttfb_p99_ms,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "seconds_per_client": self.seconds,
            "ramp_s": self.ramp,
            "events_per_stream": SLOW_EVENTS,
            "event_interval_s": SLOW_INTERVAL,
            "sides": {side: result.as_dict() for side, result in self.results.items()},
            "relaygate_over_passthrough_stock": self.against(STOCK),
            "relaygate_over_passthrough": self.against(PASSTHROUGH),
        }

    def render(self) -> list[str]:
        lines = [
            f"long streams: {self.clients} clients (started over {self.ramp:g} s), each looping streamed "
            f"chats of {SLOW_EVENTS} events {SLOW_INTERVAL * 1000:.0f} ms apart for {self.seconds:g} s",
            f"  {'':<36} {'streams':>7} {'errors':>6} {'TTFB p50':>9} {'TTFB p99':>9} {'stream p50':>10} "
            f"{'CPU/stream':>10} {'peak RSS':>9} {'client':>7}",
            f"  {'':<36} {'':>7} {'':>6} {'(ms)':>9} {'(ms)':>9} {'(ms)':>10} {'(us)':>10} "
            f"{'tree (MB)':>9} {'CPU':>7}",
        ]
        lines += [f"  {LABELS[side]:<36} {_render_result(result)}" for side, result in self.results.items()]
        lines += self._render_against(STOCK, targets=True)
        lines += self._render_against(PASSTHROUGH, targets=False)
        return lines

    def _render_against(self, base: str, targets: bool) -> list[str]:
        """One line: relaygate's CPU per stream and TTFB p99 against `base`, with the targets."""
        figures = self.against(base)
        mine = self.results.get(RELAYGATE)
        if not figures or mine is None:
            return []
        ratio = figures["cpu_per_stream_ratio"]
        cpu = f"x{ratio:.2f}" if ratio is not None else "-"
        ttfb = f"{figures['ttfb_p99_added_ms']:+.1f} ms"
        if not targets:
            return [f"  relaygate against the {LABELS[base]}: CPU per stream {cpu}, TTFB p99 {ttfb}"]
        rss = f"{mine.peak_rss_mb:.0f} MB" if mine.peak_rss_mb is not None else "-"
        return [
            f"  relaygate against the {LABELS[base]}: CPU per stream {cpu} (target <= {CPU_TARGET}), "
            f"TTFB p99 {ttfb} (target <= +{TTFB_P99_TARGET_MS:.0f})",
            f"  relaygate: {mine.errors} errors (target 0), its tree's peak RSS {rss} "
            f"(target <= {TREE_TARGET_MB:.0f})",
        ]


def _render_result(result: LongStreamResult) -> str:
    cpu = f"{result.cpu_us_per_stream:,.0f}" if result.cpu_us_per_stream is not None else "-"
    rss = f"{result.peak_rss_mb:.1f}" if result.peak_rss_mb is not None else "-"
    return (
        f"{result.streams:>7} {result.errors:>6} {result.ttfb_p50_ms:>9.2f} {result.ttfb_p99_ms:>9.2f} "
        f"{result.total_p50_ms:>10.0f} {cpu:>10} {rss:>9} {result.client_cpu_share * 100:>6.0f}%"
    )
