"""How fast one relaygate worker runs an experiment, and what each generation costs it in CPU.

    .venv/bin/python tests/experiments/measure_throughput.py [datapoints] [--judge] [--postgres]

One relaygate process (uvicorn, one worker; SQLite unless --postgres), fake upstreams that
answer every call after 50 ms, two targets (a model and a deployment on another model) at
concurrency 4 each, scored by exact match (and, with --judge, by a judge on a third fake
upstream that answers at once). Reports datapoints x targets per second from start to
completed, and the relaygate process's CPU time (user + system, from /proc) per item,
with its idle CPU over the same time subtracted. Not a test: pytest does not collect it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.conftest import (
    DEPLOYMENT_ANSWERS,
    MODEL_ANSWERS,
    add_dataset,
    answering,
    judge_reply,
    make_lab,
)

from support import databases
from support.server import make_server
from upstream import FakeUpstream, Fault

LATENCY_S = 0.05
CONCURRENCY = 4
POLL_S = 0.1
TICKS = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of relaygate's process and its children (SQLite's usage writer)."""
    total = 0.0
    for each in (pid, *_descendants(pid)):
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return total


def main() -> None:
    datapoints = int(next((arg for arg in sys.argv[1:] if arg.isdigit()), "250"))
    judged = "--judge" in sys.argv
    env = {
        "RELAYGATE_LOG_LEVEL": "warning",
        "RELAYGATE_CATALOG_POLL_INTERVAL": "",
        "RELAYGATE_USAGE_FLUSH_INTERVAL": "",
    }
    if "--postgres" in sys.argv:
        env["RELAYGATE_DATABASE_URL"] = databases.create_database(
            databases.configured_url() or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        )
    with (
        tempfile.TemporaryDirectory() as home,
        FakeUpstream(reply=answering(MODEL_ANSWERS)) as model,
        FakeUpstream(reply=answering(DEPLOYMENT_ANSWERS)) as deployment,
        FakeUpstream(reply=judge_reply) as judge,
    ):
        server = make_server(Path(home), **env)
        if "RELAYGATE_DATABASE_URL" in env:
            server.cli("migrate")
        server.start()
        try:
            lab = make_lab(server, model, deployment, judge)
            countries = ["France", "Italy", "Spain"] * (datapoints // 3 + 1)
            dataset, _ = add_dataset(lab.workspace, countries[:datapoints])
            for upstream in (model, deployment):
                upstream.script("/chat/completions", [Fault(delay=LATENCY_S)] * (datapoints + 10))
            evaluators = [lab.exact, lab.judge] if judged else [lab.exact]
            created = lab.create(dataset_id=dataset, evaluators=evaluators, concurrency=CONCURRENCY)
            assert server.process is not None
            pid = server.process.pid
            idle_before, idle_started = cpu_seconds(pid), time.monotonic()
            time.sleep(3)
            idle_rate = (cpu_seconds(pid) - idle_before) / (time.monotonic() - idle_started)

            cpu_before, started = cpu_seconds(pid), time.monotonic()
            lab.post(created["id"], "start")
            finished = lab.get(created["id"])
            while finished["status"] == "running":  # polled gently: a GET costs relaygate CPU too
                time.sleep(POLL_S)
                finished = lab.get(created["id"])
            elapsed, cpu = time.monotonic() - started, cpu_seconds(pid) - cpu_before
            items = finished["progress"]["done"]
            assert (finished["status"], items) == ("completed", 2 * datapoints), finished
            busy = cpu - idle_rate * elapsed
            store = "PostgreSQL" if "RELAYGATE_DATABASE_URL" in env else "SQLite"
            scored_by = "exact + judge" if judged else "exact"
            print(
                f"{store}, {datapoints} datapoints x 2 targets, concurrency {CONCURRENCY} per target, "
                f"upstream latency {LATENCY_S * 1000:.0f} ms, evaluators: {scored_by}"
            )
            print(
                f"  {items} items in {elapsed:.2f} s: {items / elapsed:.1f} items/s "
                f"(ideal {2 * CONCURRENCY / LATENCY_S:.0f}/s)"
            )
            print(
                f"  relaygate CPU (its process and children) {cpu:.2f} s "
                f"({idle_rate * 100:.1f}% idle baseline): {busy / items * 1000:.2f} ms per item"
            )
            latency = [target["latency_ms"] for target in lab.get(created["id"], "summary")["targets"]]
            print(f"  generation latency p50/p95 per target (ms): {latency}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
