"""Turning measurements into the printed table and `bench/results/latest.json`."""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .load import LoadResult, StreamResult
from .long_streams import LongStreamResult, LongStreams
from .memory import Memory
from .sides import DIRECT, PASSTHROUGH, RELAYGATE, STOCK

# whose CPU is read, by side
CPU_OF = {DIRECT: "upstream", STOCK: "passthrough_stock", PASSTHROUGH: "passthrough", RELAYGATE: "relaygate"}
Result = LoadResult | StreamResult
Measurements = Mapping[str, tuple[Result, float | None]]  # side -> (result, server CPU us/request)


@dataclass
class Row:
    scenario: str
    unit: str
    direct: float
    relaygate: float | None
    passthrough: float | None = None
    stock: float | None = None  # the stock pass-through

    @property
    def ratio(self) -> float | None:
        """relaygate / direct."""
        return _ratio(self.relaygate, self.direct)

    @property
    def ratio_passthrough(self) -> float | None:
        """relaygate / pass-through."""
        return _ratio(self.relaygate, self.passthrough)

    @property
    def ratio_stock(self) -> float | None:
        """relaygate / stock pass-through."""
        return _ratio(self.relaygate, self.stock)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "unit": self.unit,
            "direct": self.direct,
            "relaygate": self.relaygate,
            "ratio": self.ratio,
            "passthrough": self.passthrough,
            "relaygate_over_passthrough": self.ratio_passthrough,
            "passthrough_stock": self.stock,
            "relaygate_over_passthrough_stock": self.ratio_stock,
        }

    def render(self, width: int) -> str:
        digits = 3 if self.unit == "ms" else 0
        cells = [
            _cell(self.direct, digits, 10),
            _cell(self.stock, digits, 10),
            _cell(self.passthrough, digits, 10),
            _cell(self.relaygate, digits, 10),
            _cell(self.ratio, 2, 10),
            _cell(self.ratio_stock, 2, 10),
            _cell(self.ratio_passthrough, 2, 10),
        ]
        return f"{self.scenario + ' (' + self.unit + ')':<{width}} " + " ".join(cells)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _cell(value: float | None, digits: int, width: int) -> str:
    return f"{value:{width},.{digits}f}" if value is not None else f"{'-':>{width}}"


# The figures compared with usage recording on and off: (key, label, unit, higher is better).
USAGE_FIGURES = (
    ("c1_p50_ms", "chat c=1 p50", "ms", False),
    ("c1_p99_ms", "chat c=1 p99", "ms", False),
    ("c1_cpu_us", "CPU per request at c=1", "us", False),
    ("high_rps", "chat c={c} throughput", "req/s", True),
    ("high_cpu_us", "CPU per request at c={c}", "us", False),
)


@dataclass
class UsageCost:
    """Usage recording on vs off, measured back to back in every round (at c=1 and at the high
    concurrency); each figure's on / off taken per round, and the median of those compared.
    A round's figure is None when it could not be measured (no CPU reading)."""

    connections: int
    figures: dict[bool, dict[str, list[float | None]]] = field(
        default_factory=lambda: {on: {key: [] for key, *_ in USAGE_FIGURES} for on in (True, False)}
    )

    def add(
        self, recording: bool, c1: LoadResult, c1_cpu: float | None, high: LoadResult, high_cpu: float | None
    ) -> None:
        values = {
            "c1_p50_ms": c1.p50_ms,
            "c1_p99_ms": c1.p99_ms,
            "c1_cpu_us": c1_cpu,
            "high_rps": high.rps,
            "high_cpu_us": high_cpu,
        }
        for key, value in values.items():
            self.figures[recording][key].append(value)

    def median(self, recording: bool, key: str) -> float | None:
        return _median([value for value in self.figures[recording][key] if value is not None])

    def ratios(self, key: str) -> list[float | None]:
        """on / off for one figure in every round (the two were measured back to back), None
        for a round where either could not be measured."""
        pairs = zip(self.figures[True][key], self.figures[False][key], strict=True)
        return [_ratio(on, off) for on, off in pairs]

    def ratio(self, key: str) -> float | None:
        """The median of the rounds' on / off (above 1 is worse for latency and CPU, better for
        req/s): the machine's drift between rounds cancels in each pair, not in the medians of
        each side."""
        return _median([ratio for ratio in self.ratios(key) if ratio is not None])

    def worst(self) -> float | None:
        """How far the worst figure is from its usage-off value, as a fraction (0.05 = 5 % worse)."""
        gaps = []
        for key, _, _, higher_is_better in USAGE_FIGURES:
            ratio = self.ratio(key)
            if ratio is not None:
                gaps.append(1 / ratio - 1 if higher_is_better else ratio - 1)
        return max(gaps) if gaps else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "rounds": len(self.figures[True]["high_rps"]),
            "on": {key: self.median(True, key) for key, *_ in USAGE_FIGURES},
            "off": {key: self.median(False, key) for key, *_ in USAGE_FIGURES},
            "all_rounds": self.figures,
            "on_over_off": {key: self.ratio(key) for key, *_ in USAGE_FIGURES},
            "on_over_off_by_round": {key: self.ratios(key) for key, *_ in USAGE_FIGURES},
            "worst_gap": self.worst(),
        }

    def render(self) -> list[str]:
        rounds = len(self.figures[True]["high_rps"])
        lines = [
            f"usage recording on vs off, {rounds} rounds of the two back to back (medians):",
            f"  {'figure':<30} {'on':>10} {'off':>10} {'on/off':>7}",
        ]
        for key, label, unit, _ in USAGE_FIGURES:
            digits = 3 if unit == "ms" else 0
            name = f"{label.format(c=self.connections)} ({unit})"
            on, off, ratio = self.median(True, key), self.median(False, key), self.ratio(key)
            lines.append(
                f"  {name:<30} {_cell(on, digits, 10)} {_cell(off, digits, 10)} {_cell(ratio, 2, 7)}"
            )
        worst = self.worst()
        if worst is not None:
            lines.append(f"  worst figure with recording on: {worst * 100:+.1f} % against off")
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
    memory: Memory = field(default_factory=lambda: Memory({}))
    long_streams: LongStreams | None = None

    def add_run(self, name: str, measured: Measurements) -> None:
        """One scenario's results, each side with the CPU its server spent per request."""
        run: dict[str, Any] = {}
        for side, (result, cpu_us) in measured.items():
            run[side] = result.as_dict()
            run[f"{CPU_OF[side]}_cpu_us_per_request"] = cpu_us
            self.cpu_us[CPU_OF[side]][name] = cpu_us
            self.note_errors(f"{name} {side}", result)
        self.runs[name] = run

    def note_errors(self, what: str, result: Result | LongStreamResult) -> None:
        if result.errors:
            first = "" if isinstance(result, LoadResult) else f", first: {result.first_error}"
            self.problems.append(f"{what}: {result.errors} errors, {result.requests} good{first}")

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

    @property
    def relaygate_over_stock_p50_ms_c1(self) -> float | None:
        """relaygate's p50 minus the stock pass-through's (its protocol's share included)."""
        return self._added_p50_ms_c1(RELAYGATE, STOCK)

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
                "passthrough_stock_added_p50_ms_c1": self._added_p50_ms_c1(STOCK, DIRECT),
                "relaygate_over_passthrough_stock_p50_ms_c1": self.relaygate_over_stock_p50_ms_c1,
                "passthrough_stock_cpu_us_per_request": self.cpu_us["passthrough_stock"],
                "against_stock_passthrough": self.against_stock(),
            },
            "runs": self.runs,
            "idle_rss_mb": self.memory.as_dict(),
            "long_streams": self.long_streams.as_dict() if self.long_streams is not None else None,
            "usage_recording": self.usage.as_dict() if self.usage is not None else None,
            "problems": self.problems,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def render(self) -> str:
        lines = [f"relaygate served by {self.meta['server']}"] if "server" in self.meta else []
        lines += self._render_table()
        lines += ["", *self._render_added_latency(), *self._render_cpu(), *self._render_targets()]
        lines += ["", *self.memory.render()]
        if self.long_streams is not None:
            lines += ["", *self.long_streams.render()]
        if self.usage is not None:
            lines += ["", *self.usage.render()]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)

    def _render_table(self) -> list[str]:
        width = max([len(r.scenario) + len(r.unit) + 3 for r in self.rows] + [24])
        sides = ("direct", "stock pt", "rg pt", "relaygate", "direct", "stock pt", "rg pt")
        header = f"{'scenario':<{width}} " + " ".join(f"{name:>10}" for name in sides)
        ratios = " ".join(f"{'relaygate /':>10}" for _ in range(3))
        legend = (
            "pt: the bare pass-through, on stock uvicorn + pyreqwest (stock) or on relaygate's protocol "
            "and client settings (rg)"
        )
        rows = (r.render(width) for r in self.rows)
        return [legend, ratios.rjust(len(header)), header, "-" * len(header), *rows]

    def _render_added_latency(self) -> list[str]:
        added = self.added_p50_ms_c1
        passthrough = self.passthrough_added_p50_ms_c1
        own = self.relaygate_over_passthrough_p50_ms_c1
        return [
            f"added latency, p50 at c=1: {_ms(added)}",
            f"stock pass-through added latency p50 at c=1: {_ms(self._added_p50_ms_c1(STOCK, DIRECT))}",
            f"relaygate's p50 over the stock pass-through: {_ms(self.relaygate_over_stock_p50_ms_c1)}",
            f"pass-through (relaygate's protocol) added latency p50 at c=1: {_ms(passthrough)}",
            f"relaygate's own added p50 over that pass-through: {_ms(own)}",
        ]

    def against_stock(self) -> dict[str, float | None]:
        """relaygate against the stock pass-through at the high concurrency: CPU per call and
        throughput as ratios (issue 22's targets: <= 1.4 and >= 0.7)."""
        high = f"chat_c{self.meta.get('connections')}"
        run = self.runs.get(high, {})
        throughput = None
        if run.get(RELAYGATE) and run.get(STOCK):
            throughput = _ratio(run[RELAYGATE]["rps"], run[STOCK]["rps"])
        cpu = _ratio(self.cpu_us["relaygate"].get(high), self.cpu_us["passthrough_stock"].get(high))
        return {"cpu_per_call_ratio": cpu, "throughput_ratio": throughput}

    def _render_targets(self) -> list[str]:
        figures = self.against_stock()
        cpu, throughput = figures["cpu_per_call_ratio"], figures["throughput_ratio"]
        c = self.meta.get("connections")
        return [
            f"relaygate against the stock pass-through at c={c}: CPU per call {_times(cpu)} (target <= 1.4), "
            f"throughput {_times(throughput)} (target >= 0.7); "
            f"added p50 at c=1 over direct {_ms(self.added_p50_ms_c1)} (target <= 0.3 ms)"
        ]

    def _render_cpu(self) -> list[str]:
        lines = ["server CPU per request (us):  relaygate   rg pt  stock pt  upstream (for scale)"]
        for name, cpu in self.cpu_us["relaygate"].items():
            others = (self.cpu_us[who].get(name) for who in ("passthrough", "passthrough_stock", "upstream"))
            lines.append(f"  {name:<26} {_us(cpu):>10} " + " ".join(f"{_us(v):>9}" for v in others))
        return lines


def _ms(value: float | None) -> str:
    return f"{value:.3f} ms" if value is not None else "-"


def _times(value: float | None) -> str:
    return f"x{value:.2f}" if value is not None else "-"


def _us(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"
