"""Turning measurements into the printed table and `bench/results/latest.json`."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .load import LoadResult, StreamResult

# The sides every scenario is measured on, in measuring order; also the JSON keys of each run.
DIRECT, PASSTHROUGH, RELAYGATE = "direct", "passthrough", "relaygate"
CPU_OF = {DIRECT: "upstream", PASSTHROUGH: "passthrough", RELAYGATE: "relaygate"}  # whose CPU is read
Result = LoadResult | StreamResult
Measurements = Mapping[str, tuple[Result, float | None]]  # side -> (result, server CPU us/request)


@dataclass
class Row:
    scenario: str
    unit: str
    direct: float
    relaygate: float | None
    passthrough: float | None = None

    @property
    def ratio(self) -> float | None:
        """relaygate / direct."""
        return _ratio(self.relaygate, self.direct)

    @property
    def ratio_passthrough(self) -> float | None:
        """relaygate / pass-through."""
        return _ratio(self.relaygate, self.passthrough)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "unit": self.unit,
            "direct": self.direct,
            "relaygate": self.relaygate,
            "ratio": self.ratio,
            "passthrough": self.passthrough,
            "relaygate_over_passthrough": self.ratio_passthrough,
        }

    def render(self, width: int) -> str:
        digits = 3 if self.unit == "ms" else 0
        cells = [
            _cell(self.direct, digits, 10),
            _cell(self.passthrough, digits, 12),
            _cell(self.relaygate, digits, 10),
            _cell(self.ratio, 2, 11),
            _cell(self.ratio_passthrough, 2, 12),
        ]
        return f"{self.scenario + ' (' + self.unit + ')':<{width}} " + " ".join(cells)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _cell(value: float | None, digits: int, width: int) -> str:
    return f"{value:{width},.{digits}f}" if value is not None else f"{'-':>{width}}"


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
    # whose CPU ("relaygate", "passthrough", "upstream") -> scenario -> microseconds per request
    cpu_us: dict[str, dict[str, float | None]] = field(
        default_factory=lambda: {who: {} for who in CPU_OF.values()}
    )
    problems: list[str] = field(default_factory=list)
    usage: UsageCost | None = None

    def add_run(self, name: str, measured: Measurements) -> None:
        """One scenario's results, each side with the CPU its server spent per request."""
        run: dict[str, Any] = {}
        for side, (result, cpu_us) in measured.items():
            run[side] = result.as_dict()
            run[f"{CPU_OF[side]}_cpu_us_per_request"] = cpu_us
            self.cpu_us[CPU_OF[side]][name] = cpu_us
            if result.errors:
                detail = f", first: {result.first_error}" if isinstance(result, StreamResult) else ""
                self.problems.append(f"{name} {side}: {result.errors} errors, {result.requests} good{detail}")
        self.runs[name] = run

    def _added_p50_ms_c1(self, slower: str, faster: str) -> float | None:
        run = self.runs.get("chat_c1")
        if not run or not run.get(slower) or not run.get(faster):
            return None
        return float(run[slower]["p50_ms"] - run[faster]["p50_ms"])

    @property
    def added_p50_ms_c1(self) -> float | None:
        """relaygate's p50 minus the direct p50, at concurrency 1."""
        return self._added_p50_ms_c1(RELAYGATE, DIRECT)

    @property
    def passthrough_added_p50_ms_c1(self) -> float | None:
        return self._added_p50_ms_c1(PASSTHROUGH, DIRECT)

    @property
    def relaygate_over_passthrough_p50_ms_c1(self) -> float | None:
        """relaygate's own added latency: its p50 minus the pass-through's."""
        return self._added_p50_ms_c1(RELAYGATE, PASSTHROUGH)

    def as_dict(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "table": [row.as_dict() for row in self.rows],
            "summary": {
                "added_p50_ms_c1": self.added_p50_ms_c1,
                "relaygate_cpu_us_per_request": self.cpu_us["relaygate"],
                "upstream_cpu_us_per_request": self.cpu_us["upstream"],
                "passthrough_added_p50_ms_c1": self.passthrough_added_p50_ms_c1,
                "relaygate_over_passthrough_p50_ms_c1": self.relaygate_over_passthrough_p50_ms_c1,
                "passthrough_cpu_us_per_request": self.cpu_us["passthrough"],
            },
            "runs": self.runs,
            "usage_recording": self.usage.as_dict() if self.usage is not None else None,
            "problems": self.problems,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def render(self) -> str:
        lines = [f"relaygate served by {self.meta['server']}"] if "server" in self.meta else []
        lines += self._render_table()
        lines += ["", *self._render_added_latency(), *self._render_cpu()]
        if self.usage is not None:
            lines += ["", *self.usage.render()]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)

    def _render_table(self) -> list[str]:
        width = max([len(r.scenario) + len(r.unit) + 3 for r in self.rows] + [24])
        columns = f"{'direct':>10} {'pass-through':>12} {'relaygate':>10} {'direct':>11} {'pass-through':>12}"
        header = f"{'scenario':<{width}} {columns}"
        ratios = f"{'relaygate /':>11} {'relaygate /':>12}"
        return [ratios.rjust(len(header)), header, "-" * len(header), *(r.render(width) for r in self.rows)]

    def _render_added_latency(self) -> list[str]:
        added = self.added_p50_ms_c1
        passthrough = self.passthrough_added_p50_ms_c1
        own = self.relaygate_over_passthrough_p50_ms_c1
        return [
            f"added latency, p50 at c=1: {_ms(added)}",
            f"pass-through added latency p50 at c=1: {_ms(passthrough)}",
            f"relaygate's own added p50 over the pass-through: {_ms(own)}",
        ]

    def _render_cpu(self) -> list[str]:
        lines = ["server CPU per request (us):   relaygate  pass-through   upstream (for scale)"]
        for name, cpu in self.cpu_us["relaygate"].items():
            passthrough = self.cpu_us["passthrough"].get(name)
            upstream = self.cpu_us["upstream"].get(name)
            lines.append(f"  {name:<28} {_us(cpu):>10} {_us(passthrough):>13} {_us(upstream):>10}")
        return lines


def _ms(value: float | None) -> str:
    return f"{value:.3f} ms" if value is not None else "-"


def _us(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"
