"""Child processes of the benchmark (upstream, relaygate) and their CPU time from /proc.

Every child starts in its own session (so it and anything it forks share one process group), logs
to a file, and is stopped by `Children.stop_all()`: SIGTERM to its group, then SIGKILL after a grace
period. Waits are bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A failure worth one clear message (and the tail of a child's log)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Children:
    """Starts children and guarantees they are stopped (use as a context manager)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> Child:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def stop_all(self, grace: float = 5.0) -> None:
        for child in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in reversed(self.children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(max(0.0, deadline - time.monotonic()))
            if child.process.poll() is None:
                _signal_group(child, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(2.0)
            _signal_group(child, signal.SIGKILL)  # workers the child forked and left behind
        self.children.clear()

    def __enter__(self) -> Children:
        return self

    def __exit__(self, *exc: object) -> None:
        # A second Ctrl-C must not cut the clean-up short (it is bounded by the grace periods).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.stop_all()
        finally:
            signal.signal(signal.SIGINT, previous)


def _signal_group(child: Child, sig: signal.Signals) -> None:
    """Signals the process group the child leads (its own pid, from start_new_session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def wait_http_ok(url: str, child: Child | None, timeout: float = 30.0) -> None:
    """Polls `url` until it answers 200; fails early if the child exits."""
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        if child is not None and child.process.poll() is not None:
            raise BenchError(f"{child.name} exited with {child.process.returncode}:\n{child.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"status {response.status}"
        except urllib.error.HTTPError as error:
            last_error = f"status {error.code}"
            error.close()
        except OSError as error:
            last_error = str(error)
        time.sleep(0.1)
    tail = f":\n{child.log_tail()}" if child is not None else ""
    raise BenchError(f"{url} did not answer 200 within {timeout:.0f} s ({last_error}){tail}")


def wait_port_open(port: int, child: Child, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise BenchError(f"{child.name} exited with {child.process.returncode}:\n{child.log_tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise BenchError(f"{child.name} did not open port {port} within {timeout:.0f} s:\n{child.log_tail()}")


# --- CPU time --------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; everything after its closing parenthesis is fixed.
    return raw[raw.rindex(")") + 2 :].split()


def _children_by_parent() -> dict[int, list[int]]:
    """Every live process's children, from one pass over /proc (this kernel has no
    /proc/<pid>/task/<tid>/children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_pids(pid: int) -> list[int]:
    """`pid` and all its live descendants, `pid` first."""
    children = _children_by_parent()
    found = [pid]
    for current in found:  # grows while it is walked: breadth first
        found.extend(child for child in children.get(current, []) if child not in found)
    return found


def cpu_seconds(pid: int) -> float:
    """utime+stime of `pid` and all its live descendants, plus cutime+cstime (children that exited)."""
    total_ticks = 0
    for current in tree_pids(pid):
        fields = _stat_fields(current)
        if fields is None:
            continue
        # After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
        total_ticks += int(fields[11]) + int(fields[12])
        if current == pid:
            total_ticks += int(fields[13]) + int(fields[14])
    return total_ticks / CLOCK_TICKS
