"""Resident memory of a server's process tree, read from /proc: once, or its peak while load runs."""

from __future__ import annotations

import os
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
