"""Turning measurements into the printed table and `bench/results/latest.json`."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .load import LoadResult, StreamResult


@dataclass
class Row:
    scenario: str
    unit: str
    direct: float
    relaygate: float | None

    @property
    def ratio(self) -> float | None:
        if self.relaygate is None or not self.direct:
            return None
        return self.relaygate / self.direct


@dataclass
class UsageCost:
    """Usage recording on vs off at one concurrency, in alternating rounds; medians compared."""

    connections: int
    rps: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})
    cpu_us: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})

    def add(self, recording: bool, rps: float, cpu_us: float | None) -> None:
        self.rps[recording].append(rps)
        if cpu_us is not None:
            self.cpu_us[recording].append(cpu_us)

    def as_dict(self) -> dict[str, Any]:
        on_rps, off_rps = _median(self.rps[True]), _median(self.rps[False])
        on_cpu, off_cpu = _median(self.cpu_us[True]), _median(self.cpu_us[False])
        return {
            "connections": self.connections,
            "rounds": len(self.rps[True]),
            "on": {"rps": on_rps, "cpu_us_per_request": on_cpu, "all_rps": self.rps[True]},
            "off": {"rps": off_rps, "cpu_us_per_request": off_cpu, "all_rps": self.rps[False]},
            "throughput_on_over_off": on_rps / off_rps if on_rps and off_rps else None,
            "cpu_on_over_off": on_cpu / off_cpu if on_cpu and off_cpu else None,
        }

    def render(self) -> list[str]:
        data = self.as_dict()
        on, off = data["on"], data["off"]
        lines = [
            f"usage recording, c={self.connections}, medians of {data['rounds']} alternating rounds:",
            f"  on   {on['rps'] or 0:10,.0f} req/s {_us(on['cpu_us_per_request']):>8} us/req",
            f"  off  {off['rps'] or 0:10,.0f} req/s {_us(off['cpu_us_per_request']):>8} us/req",
        ]
        if data["throughput_on_over_off"] is not None:
            lines.append(f"  on/off: throughput {data['throughput_on_over_off']:.2f}")
        if data["cpu_on_over_off"] is not None:
            lines[-1] += f", CPU per request {data['cpu_on_over_off']:.2f}"
        return lines


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Report:
    meta: dict[str, Any]
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    cpu_us_per_request: dict[str, float | None] = field(default_factory=dict)
    upstream_cpu_us_per_request: dict[str, float | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    usage: UsageCost | None = None

    def add_run(
        self,
        name: str,
        direct: LoadResult | StreamResult,
        relaygate: LoadResult | StreamResult,
        relaygate_cpu_us: float | None,
        upstream_cpu_us: float | None,
    ) -> None:
        self.runs[name] = {
            "direct": direct.as_dict(),
            "relaygate": relaygate.as_dict(),
            "relaygate_cpu_us_per_request": relaygate_cpu_us,
            "upstream_cpu_us_per_request": upstream_cpu_us,
        }
        self.cpu_us_per_request[name] = relaygate_cpu_us
        self.upstream_cpu_us_per_request[name] = upstream_cpu_us
        for result, who in ((direct, "direct"), (relaygate, "relaygate")):
            if result.errors:
                detail = f", first: {result.first_error}" if isinstance(result, StreamResult) else ""
                self.problems.append(f"{name} {who}: {result.errors} errors, {result.requests} good{detail}")

    @property
    def added_p50_ms_c1(self) -> float | None:
        run = self.runs.get("chat_c1")
        if not run or not run["relaygate"]:
            return None
        return float(run["relaygate"]["p50_ms"] - run["direct"]["p50_ms"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "table": [
                {
                    "scenario": r.scenario,
                    "unit": r.unit,
                    "direct": r.direct,
                    "relaygate": r.relaygate,
                    "ratio": r.ratio,
                }
                for r in self.rows
            ],
            "summary": {
                "added_p50_ms_c1": self.added_p50_ms_c1,
                "relaygate_cpu_us_per_request": self.cpu_us_per_request,
                "upstream_cpu_us_per_request": self.upstream_cpu_us_per_request,
            },
            "runs": self.runs,
            "usage_recording": self.usage.as_dict() if self.usage is not None else None,
            "problems": self.problems,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def render(self) -> str:
        width = max([len(r.scenario) + len(r.unit) + 3 for r in self.rows] + [24])
        lines = [f"{'scenario':<{width}} {'direct':>10} {'relaygate':>10} {'ratio':>7}"]
        lines.append("-" * len(lines[0]))
        if "server" in self.meta:
            lines.insert(0, f"relaygate served by {self.meta['server']}")
        for row in self.rows:
            label = f"{row.scenario} ({row.unit})"
            digits = 3 if row.unit == "ms" else 0
            relaygate = f"{row.relaygate:10.{digits}f}" if row.relaygate is not None else f"{'-':>10}"
            ratio = f"{row.ratio:7.2f}" if row.ratio is not None else f"{'-':>7}"
            lines.append(f"{label:<{width}} {row.direct:10.{digits}f} {relaygate} {ratio}")
        lines.append("")
        added = self.added_p50_ms_c1
        lines.append(
            f"added latency, p50 at c=1: {added:.3f} ms" if added is not None else "added latency: -"
        )
        lines.append("server CPU per request (us):   relaygate   upstream (for scale)")
        for name, cpu in self.cpu_us_per_request.items():
            upstream = self.upstream_cpu_us_per_request.get(name)
            lines.append(f"  {name:<28} {_us(cpu):>10} {_us(upstream):>10}")
        if self.usage is not None:
            lines += ["", *self.usage.render()]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


def _us(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"
