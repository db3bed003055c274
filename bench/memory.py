"""Resident memory of a server's process tree, read from /proc: once, or its peak while load runs.

``python -m bench.memory`` shows where an idle worker's memory comes from: the RSS each part
of relaygate's stack adds when imported in order into one fresh interpreter, then what the
parts only some configurations use would add.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .processes import tree_pids
from .sides import LABELS, RELAYGATE

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024
WORKER_TARGET_MB = 110  # one idle relaygate worker (issue 22)


def rss_bytes(pid: int) -> int:
    """The resident set of one process (VmRSS), 0 once it has exited."""
    try:
        resident_pages = Path(f"/proc/{pid}/statm").read_text().split()[1]
    except (OSError, IndexError):
        return 0
    return int(resident_pages) * PAGE_BYTES


def tree_rss_bytes(pids: list[int]) -> int:
    return sum(rss_bytes(pid) for pid in pids)


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


class PeakRss:
    """Samples the summed RSS of `pid`'s process tree every `interval` seconds in a thread, while
    used as a context manager; `peak_bytes` is the highest sum seen, `at_peak` what each process
    held then ("pid name" -> MB). The tree's membership is re-read once a second (a pass over
    /proc), the members' RSS at every sample."""

    def __init__(self, pid: int, interval: float = 0.1, rescan: float = 1.0) -> None:
        self.pid = pid
        self.interval = interval
        self.rescan = rescan
        self.peak_bytes = 0
        self.at_peak: dict[str, float] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"peak-rss-{pid}", daemon=True)

    def _run(self) -> None:
        pids = tree_pids(self.pid)
        scanned = time.monotonic()
        while True:
            if time.monotonic() - scanned >= self.rescan:
                pids, scanned = tree_pids(self.pid), time.monotonic()
            each = {pid: rss_bytes(pid) for pid in pids}
            if sum(each.values()) > self.peak_bytes:
                self.peak_bytes = sum(each.values())
                self.at_peak = {f"{pid} {command_name(pid)}": rss / MB for pid, rss in each.items()}
            self.samples += 1
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class Memory:
    """The idle RSS of every side's server after start-up and one call, before any load: its own
    process (relaygate's worker: the bench runs it with one) and its whole tree."""

    idle_mb: dict[str, tuple[float, float]]  # side -> (server process, whole tree)

    def read(self, side: str, pid: int) -> None:
        self.idle_mb[side] = (rss_bytes(pid) / MB, tree_rss_bytes(tree_pids(pid)) / MB)

    def as_dict(self) -> dict[str, Any]:
        return {side: {"server_mb": own, "tree_mb": tree} for side, (own, tree) in self.idle_mb.items()}

    def render(self) -> list[str]:
        if not self.idle_mb:
            return []
        lines = [f"idle RSS after start-up and one call (MB): {'server':>24} {'whole tree':>11}"]
        for side, (own, tree) in self.idle_mb.items():
            target = f"   (target for one worker <= {WORKER_TARGET_MB})" if side == RELAYGATE else ""
            lines.append(f"  {LABELS[side]:<54} {own:>9.1f} {tree:>11.1f}{target}")
        return lines


# What a worker imports, in about the order it does, ending with relaygate's own modules.
STACK = (
    "asyncio",
    "uvloop",
    "uvicorn",
    "pyreqwest",
    "pydantic",
    "fastapi",
    "sqlalchemy",
    "sqlalchemy.ext.asyncio",
    "cryptography.hazmat.primitives.ciphers.aead",
    "jsonschema_rs",
    "prometheus_client",
    "relaygate.app",
)
# What only some configurations import (``tests/test_imports.py`` holds the default app to
# none of them): Redis, a schema upgrade, PostgreSQL, granian, traces, the offline tokenizer.
OPTIONAL = ("redis.asyncio", "alembic.command", "asyncpg", "granian", "opentelemetry.sdk.trace", "bpe_openai")

_MEASURE_IMPORTS = """
import importlib, json, sys
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE
PAGE = int(sys.argv[1])
steps, before = [["(interpreter)", rss()]], rss()
for name in sys.argv[2:]:
    importlib.import_module(name)
    now = rss()
    steps.append([name, now - before])
    before = now
print(json.dumps(steps))
"""


def import_costs(modules: tuple[str, ...]) -> list[tuple[str, float]]:
    """(module, MB its import added) for ``modules`` imported in order into a fresh
    interpreter; the first row is the interpreter itself."""
    argv = [sys.executable, "-c", _MEASURE_IMPORTS, str(PAGE_BYTES), *modules]
    answer = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    return [(name, size / MB) for name, size in json.loads(answer.stdout)]


def main() -> int:
    print("RSS added by each import, in this order, into one fresh interpreter (MB):")
    total = 0.0
    for name, cost in import_costs(STACK):
        total += cost
        print(f"  {name:<46} {cost:>+7.1f} {total:>8.1f}")
    print("what each part only some configurations use would add to that (each on its own):")
    for name in OPTIONAL:
        cost = import_costs((*STACK, name))[-1][1]
        print(f"  {name:<46} {cost:>+7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
