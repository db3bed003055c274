"""Turning measurements into the printed table and `bench/results/latest.json`."""

from __future__ import annotations

import json
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
class Report:
    meta: dict[str, Any]
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    cpu_us_per_request: dict[str, float | None] = field(default_factory=dict)
    upstream_cpu_us_per_request: dict[str, float | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

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
            "problems": self.problems,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def render(self) -> str:
        width = max([len(r.scenario) + len(r.unit) + 3 for r in self.rows] + [24])
        lines = [f"{'scenario':<{width}} {'direct':>10} {'relaygate':>10} {'ratio':>7}"]
        lines.append("-" * len(lines[0]))
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
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


def _us(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"
