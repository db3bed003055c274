"""`python -m bench`: the same chat traffic sent directly to a fast upstream and through relaygate.

1. start `bench.upstream` (uvicorn + uvloop + httptools, canned answers) in its own process;
2. start `bench.passthrough` twice (a bare uvicorn + pyreqwest forwarder, the floor of relaygate's
   stack: once stock, once on relaygate's protocol and client settings; skipped with
   `--no-passthrough`) and `relaygate serve` (or use `--relaygate-url`), each in its own process;
   register the upstream as models `bench/bench-model` and `bench/slow-bench-model` through
   `POST /v2/models/openai-like`; read every server's idle RSS;
3. warm up, then measure with wrk: non-streaming chat at concurrency 1 and at `--connections`,
   direct, through the pass-throughs and through relaygate; streaming time to first byte at c=1;
4. read each server's CPU time from /proc around its measurements;
5. the long streams (`bench.long_streams`): `--long-streams` clients looping slow streams against
   each side in turn, with CPU per stream and the peak RSS of each server's process tree;
6. the usage rounds (recording on against off);
7. print the table and write `bench/results/latest.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from . import load, long_streams
from .load import LoadResult, StreamResult, Target
from .long_streams import LongStreams
from .processes import BenchError, Children, cpu_seconds
from .report import Report, Row, UsageCost
from .servers import (
    ROOT,
    UPSTREAM_KEY,
    Relaygate,
    check_route,
    existing_relaygate,
    register_model,
    start_passthrough,
    start_relaygate,
    start_upstream,
)
from .sides import DIRECT, PASSTHROUGH, RELAYGATE, STOCK
from .upstream import SLOW_PREFIX

Measured = TypeVar("Measured", LoadResult, StreamResult)
Each = dict[str, tuple[Measured, float | None]]  # side -> (result, server CPU us/request)
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.json"
MESSAGES = [{"role": "user", "content": "hi"}]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="relaygate vs direct upstream")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per target (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="high concurrency level (default 64)")
    parser.add_argument("--wrk-threads", type=int, default=None, help="wrk threads (default min(2, c))")
    parser.add_argument(
        "--python-client", action="store_true", help="use the asyncio client even if wrk exists"
    )
    parser.add_argument("--relaygate-url", help="bench a running relaygate (http://127.0.0.1:PORT)")
    parser.add_argument("--relaygate-key", help="admin key of that relaygate (default $RELAYGATE_KEY)")
    parser.add_argument("--relaygate-pid", type=int, help="its server pid, to measure CPU per request")
    parser.add_argument("--no-passthrough", action="store_true", help="skip the bare pass-throughs")
    parser.add_argument(
        "--long-streams",
        type=int,
        default=500,
        help="clients of the long-stream scenario (default 500, 0 skips)",
    )
    parser.add_argument(
        "--long-stream-seconds",
        type=float,
        default=10.0,
        help="seconds each long-stream client loops (default 10)",
    )
    parser.add_argument(
        "--long-stream-ramp",
        type=float,
        default=2.0,
        help="seconds over which they start (default 2, 0: at once)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results path")
    parser.add_argument(
        "--usage-rounds",
        type=int,
        default=9,
        help="rounds of usage recording on vs off, at c=1 and the high concurrency (default 9, 0 skips)",
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.connections < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --connections >= 1")
    if args.long_streams < 0 or args.long_stream_seconds <= 0 or args.long_stream_ramp < 0:
        parser.error("--long-streams must be >= 0, --long-stream-seconds > 0, --long-stream-ramp >= 0")
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Side:
    """One way to reach the upstream (direct, pass-through, relaygate), measured in every scenario."""

    name: str
    chat: Target
    stream: Target
    slow: Target  # a streamed chat of the slow model (the long-stream scenario)
    pid: int | None  # the server whose CPU time is read around each measurement


def chat_body(model: str, stream: bool) -> bytes:
    payload: dict[str, Any] = {"model": model, "messages": MESSAGES}
    if stream:
        payload["stream"] = True
    return json.dumps(payload, separators=(",", ":")).encode()


def make_side(name: str, url: str, key: str, models: tuple[str, str], pid: int | None) -> Side:
    """`models`: the fast model's id and the slow one's, as this side names them."""
    auth = f"Bearer {key}"
    fast, slow = models
    return Side(
        name,
        Target(url, auth, chat_body(fast, False)),
        Target(url, auth, chat_body(fast, True)),
        Target(url, auth, chat_body(slow, True)),
        pid,
    )


def direct_side(upstream_port: int, pid: int) -> Side:
    url = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"
    return make_side(DIRECT, url, UPSTREAM_KEY, ("bench-model", SLOW_PREFIX + "bench-model"), pid)


def passthrough_side(name: str, port: int, pid: int) -> Side:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    return make_side(name, url, UPSTREAM_KEY, ("bench-model", SLOW_PREFIX + "bench-model"), pid)


def relaygate_side(relaygate: Relaygate, upstream_port: int, model_id: str) -> Side:
    """Registers `model_id` and its slow twin in `relaygate`; the side that calls them."""
    fast = register_model(relaygate, upstream_port, model_id)
    slow = register_model(relaygate, upstream_port, SLOW_PREFIX + model_id)
    url = f"{relaygate.base_url}/v3/router/chat/completions"
    return make_side(RELAYGATE, url, relaygate.admin_key, (fast, slow), relaygate.pid)


class Bench:
    def __init__(self, args: argparse.Namespace, relaygate: Relaygate, sides: list[Side]) -> None:
        self.args = args
        self.relaygate = relaygate
        self.sides = sides  # in measuring order: direct, the pass-throughs (unless skipped), relaygate

    def side(self, name: str) -> Side:
        return next(side for side in self.sides if side.name == name)

    def load(self, target: Target, connections: int, seconds: float) -> LoadResult:
        if self.args.python_client:
            return asyncio.run(load.run_fallback(target, connections, seconds))
        return load.run_load(target, connections, seconds, self.args.wrk_threads)

    @staticmethod
    def cpu_per_request(pid: int | None, work: Callable[[], Measured]) -> tuple[Measured, float | None]:
        """Runs `work` and returns its result with the CPU microseconds `pid` spent per request."""
        before = cpu_seconds(pid) if pid else None
        result = work()
        if before is None or pid is None or not result.requests:
            return result, None
        return result, (cpu_seconds(pid) - before) / result.requests * 1e6

    def measure_each(self, work: Callable[[Side], Measured]) -> Each[Measured]:
        """`work` on every side in turn, each with its server's CPU per request."""
        return {
            side.name: self.cpu_per_request(side.pid, functools.partial(work, side)) for side in self.sides
        }

    def measured_load(self, connections: int) -> Each[LoadResult]:
        return self.measure_each(lambda side: self.load(side.chat, connections, self.args.duration))

    def measured_stream(self) -> Each[StreamResult]:
        return self.measure_each(lambda side: load.run_stream_probe(side.stream, self.args.duration))

    def warm_chat(self, sides: Iterable[Side], seconds: float) -> None:
        for side in sides:
            self.load(side.chat, min(8, self.args.connections), seconds)

    def warm_up(self) -> None:
        if self.args.warmup <= 0:
            return
        self.warm_chat(self.sides, self.args.warmup)
        for side in self.sides:
            load.run_stream_probe(side.stream, min(1.0, self.args.warmup))

    def run(self, report: Report) -> None:
        self.warm_up()
        high = self.args.connections
        c1 = self.measured_load(1)
        report.add_run("chat_c1", c1)
        hi = self.measured_load(high)
        report.add_run(f"chat_c{high}", hi)
        streamed = self.measured_stream()
        report.add_run("stream_c1", streamed)
        report.rows += [
            row("chat c=1 p50", "ms", c1, lambda r: r.p50_ms),
            row("chat c=1 p99", "ms", c1, lambda r: r.p99_ms),
            row("chat c=1 throughput", "req/s", c1, lambda r: r.rps),
            row(f"chat c={high} throughput", "req/s", hi, lambda r: r.rps),
            row(f"chat c={high} p50", "ms", hi, lambda r: r.p50_ms),
            row("stream c=1 first byte p50", "ms", streamed, lambda r: r.ttfb_p50_ms),
            row("stream c=1 complete p50", "ms", streamed, lambda r: r.total_p50_ms),
        ]
        if self.args.long_streams > 0:
            report.long_streams = self.measured_long_streams(report)

    def measured_long_streams(self, report: Report) -> LongStreams:
        """Every side in turn under `--long-streams` clients looping slow streams."""
        args = self.args
        scenario = LongStreams(args.long_streams, args.long_stream_seconds, args.long_stream_ramp)
        for side in self.sides:
            result = long_streams.measure(
                side.slow, side.pid, args.long_streams, args.long_stream_seconds, args.long_stream_ramp
            )
            scenario.results[side.name] = result
            report.note_errors(f"long streams {side.name}", result)
        return scenario


def row(scenario: str, unit: str, each: Each[Measured], value: Callable[[Measured], float]) -> Row:
    """One table row: the same figure taken from every side's result."""
    figures = {name: value(result) for name, (result, _) in each.items()}
    return Row(
        scenario, unit, figures[DIRECT], figures.get(RELAYGATE), figures.get(PASSTHROUGH), figures.get(STOCK)
    )


def _meta(args: argparse.Namespace, relaygate: Relaygate) -> dict[str, Any]:
    use_wrk = load.have_wrk() and not args.python_client
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": args.connections,
        "load_generator": "wrk" if use_wrk else "asyncio-fallback",
        "relaygate": "external " + relaygate.base_url if relaygate.child is None else "started by the bench",
        "server": (os.environ.get("RELAYGATE_SERVER") or "uvicorn (the default)")
        if relaygate.child is not None
        else "an external server",
        "passthrough": "skipped (--no-passthrough)"
        if args.no_passthrough
        else "bench.passthrough (uvicorn + pyreqwest), stock and on relaygate's protocol, both started",
        "long_streams": {
            "clients": args.long_streams,
            "seconds": args.long_stream_seconds,
            "ramp": args.long_stream_ramp,
        },
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def relaygate_under_test(args: argparse.Namespace, children: Children, workdir: Path) -> Relaygate:
    if args.relaygate_url:
        return existing_relaygate(args.relaygate_url, args.relaygate_key, args.relaygate_pid)
    return start_relaygate(children, workdir / "relaygate-home")


def run(args: argparse.Namespace, children: Children, workdir: Path) -> Report:
    if not load.have_wrk() and not args.python_client:
        print(load.WRK_INSTALL_HINT, file=sys.stderr)
    upstream_port, upstream = start_upstream(children)
    sides = [direct_side(upstream_port, upstream.pid)]
    if not args.no_passthrough:
        for name, stock in ((STOCK, True), (PASSTHROUGH, False)):
            passthrough_port, passthrough = start_passthrough(children, upstream_port, stock)
            sides.append(passthrough_side(name, passthrough_port, passthrough.pid))
    relaygate = relaygate_under_test(args, children, workdir)
    # An external relaygate may hold models from earlier runs: a fresh id each time.
    model_id = f"bench-model-{secrets.token_hex(3)}" if args.relaygate_url else "bench-model"
    sides.append(relaygate_side(relaygate, upstream_port, model_id))
    report = Report(meta=_meta(args, relaygate))
    for side in sides:
        check_route(side.chat, side.name)
        if side.pid is not None:
            report.memory.read(side.name, side.pid)  # after start-up and one call, before any load
    bench = Bench(args, relaygate, sides)
    bench.run(report)
    if args.usage_rounds > 0 and relaygate.child is not None:
        report.usage = usage_cost(bench, children, workdir, upstream_port)
    return report


def usage_cost(bench: Bench, children: Children, workdir: Path, upstream_port: int) -> UsageCost:
    """What usage recording costs: the same load through two fresh relaygates, one recording
    and one with ``RELAYGATE_USAGE_ENABLED=0``, back to back in every round (this machine's
    speed drifts by 10-40 % over a minute, so only close pairs compare; see README.md)."""
    sides: dict[bool, Side] = {}
    for recording, name in ((True, "relaygate-usage-on"), (False, "relaygate-usage-off")):
        env = {} if recording else {"RELAYGATE_USAGE_ENABLED": "0"}
        started = start_relaygate(children, workdir / name, name, env)
        sides[recording] = relaygate_side(started, upstream_port, "bench-model")
        check_route(sides[recording].chat, name)
    bench.warm_chat(sides.values(), max(bench.args.warmup, 1.0))  # fresh processes: never cold
    connections, seconds = bench.args.connections, bench.args.duration
    cost = UsageCost(connections)
    for round_number in range(bench.args.usage_rounds):
        # on, off in even rounds and off, on in odd ones: a steady drift favours neither
        order = (True, False) if round_number % 2 == 0 else (False, True)
        measured: dict[bool, list[tuple[LoadResult, float | None]]] = {True: [], False: []}
        for level in (1, connections):
            for recording in order:
                side = sides[recording]
                work = functools.partial(bench.load, side.chat, level, seconds)
                measured[recording].append(bench.cpu_per_request(side.pid, work))
        for recording, ((c1, c1_cpu), (high, high_cpu)) in measured.items():
            cost.add(recording, c1, c1_cpu, high, high_cpu)
    return cost


def _print_log_tail(path: Path, lines: int = 40) -> None:
    if path.exists():
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- last lines of {path.name} ---", *tail, sep="\n", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Explicit handlers: a shell may start us with SIGINT ignored, and SIGTERM must clean up too.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="relaygate-bench-") as folder:
        workdir = Path(folder)
        (workdir / "relaygate-home").mkdir()
        try:
            with Children(workdir) as children:
                report = run(args, children, workdir)
        except BenchError as error:
            print(f"bench: {error}", file=sys.stderr)
            _print_log_tail(workdir / "relaygate.log")
            return 1
        except KeyboardInterrupt:
            print("bench: interrupted; child processes stopped", file=sys.stderr)
            return 130
    print(report.render())
    report.write_json(args.output)
    print(f"\nwritten to {args.output}")
    return 1 if report.problems else 0
