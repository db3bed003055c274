"""Per-target aggregates of an experiment's results (pure): what a team decides from.

For each target: how many items finished, failed and remain; p50/p95 latency and time to
first token; total and per-item cost; tokens; the generation errors (their most common
messages); and for each evaluator the mean, the pass rate, and the distribution of its
scores. Results are added one at a time (``TargetSummary.add``), so a summary reads the
results in batches and holds only the numbers it needs.

Percentiles interpolate linearly between the two nearest ranks (numpy's default):
p50 of [1, 2, 3, 4] is 2.5. A distribution of at most ``BINS`` distinct values counts
each value (``from == to``); more are counted in ``BINS`` equal bins from the smallest to
the largest value, the last one closed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from relaygate.usage.pricing import nano_to_usd

BINS = 10
TOP_ERRORS = 5


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` (0..1) percentile of ``values``, linearly interpolated; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def distribution(values: Sequence[float], bins: int = BINS) -> list[dict[str, Any]]:
    """How the values spread: [{"from", "to", "count"}], see the module's docstring."""
    if not values:
        return []
    counts = Counter(values)
    if len(counts) <= bins:
        return [{"from": value, "to": value, "count": counts[value]} for value in sorted(counts)]
    low, high = min(values), max(values)
    width = (high - low) / bins
    counted = [0] * bins
    for value in values:
        counted[min(int((value - low) / width), bins - 1)] += 1
    return [
        {
            "from": low + width * index,
            "to": high if index == bins - 1 else low + width * (index + 1),
            "count": count,
        }
        for index, count in enumerate(counted)
    ]


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _usd(nano: int) -> float:
    return float(nano_to_usd(nano))


@dataclass
class ScoreSummary:
    """One evaluator's scores of one target's answers."""

    evaluator_id: str
    key: str
    version: int
    values: list[float] = field(default_factory=list)
    passed: int = 0
    failed: int = 0
    errors: int = 0

    def add(self, score: Mapping[str, Any]) -> None:
        if score.get("error") is not None or score.get("value") is None:
            self.errors += 1
            return
        self.values.append(float(score["value"]))
        if score.get("passed") is True:
            self.passed += 1
        elif score.get("passed") is False:
            self.failed += 1

    def as_dict(self) -> dict[str, Any]:
        judged = self.passed + self.failed
        mean = sum(self.values) / len(self.values) if self.values else None
        return {
            "evaluator_id": self.evaluator_id,
            "key": self.key,
            "version": self.version,
            "count": len(self.values),
            "errors": self.errors,
            "mean": _rounded(mean, 6),
            "min": min(self.values) if self.values else None,
            "max": max(self.values) if self.values else None,
            "passed": self.passed,
            "failed": self.failed,
            "pass_rate": _rounded(self.passed / judged, 6) if judged else None,
            "distribution": distribution(self.values),
        }


@dataclass
class TargetSummary:
    """Everything of one target's results, added one result at a time."""

    index: int
    target: dict[str, Any]
    label: str
    scores: dict[str, ScoreSummary]  # by evaluator id, in the experiment's order
    items: int = 0
    done: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    first_tokens: list[float] = field(default_factory=list)
    cost_nano: int = 0
    eval_cost_nano: int = 0
    tokens: Counter[str] = field(default_factory=Counter)
    error_messages: Counter[str] = field(default_factory=Counter)

    def add(self, status: str, result: Mapping[str, Any]) -> None:
        """One item's result (``experiment_items.ItemResult`` fields) in its status."""
        self.items += 1
        if status not in ("done", "failed"):
            return
        self.cost_nano += int(result.get("cost_nano") or 0)
        self.eval_cost_nano += int(result.get("eval_cost_nano") or 0)
        for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
            self.tokens[name] += int(result.get(name) or 0)
        if status == "failed":
            self.failed += 1
            self.error_messages[str(result.get("error") or "unknown error")[:300]] += 1
            return
        self.done += 1
        if result.get("latency_ms") is not None:
            self.latencies.append(float(result["latency_ms"]))
        if result.get("ttft_ms") is not None:
            self.first_tokens.append(float(result["ttft_ms"]))
        for score in result.get("scores") or ():
            summary = self.scores.get(str(score.get("evaluator_id")))
            if summary is not None:
                summary.add(score)

    def as_dict(self) -> dict[str, Any]:
        finished = self.done + self.failed
        total = self.cost_nano + self.eval_cost_nano
        return {
            "target": self.index,
            **self.target,
            "label": self.label,
            "items": self.items,
            "done": self.done,
            "failed": self.failed,
            "remaining": self.items - finished,
            "latency_ms": {
                "p50": _rounded(percentile(self.latencies, 0.5)),
                "p95": _rounded(percentile(self.latencies, 0.95)),
            },
            "ttft_ms": {
                "p50": _rounded(percentile(self.first_tokens, 0.5)),
                "p95": _rounded(percentile(self.first_tokens, 0.95)),
            },
            "cost": {
                "total_usd": _usd(total),
                "generation_usd": _usd(self.cost_nano),
                "evaluation_usd": _usd(self.eval_cost_nano),
                "per_item_usd": float(nano_to_usd(total) / finished) if finished else None,
                "total_nano": total,
            },
            "tokens": {
                name: self.tokens[name] for name in ("prompt_tokens", "completion_tokens", "total_tokens")
            },
            "errors": {
                "count": self.failed,
                "messages": [
                    {"message": message, "count": count}
                    for message, count in self.error_messages.most_common(TOP_ERRORS)
                ],
            },
            "scores": [summary.as_dict() for summary in self.scores.values()],
        }


def target_summaries(
    targets: Sequence[Mapping[str, Any]], labels: Sequence[str], evaluators: Sequence[Mapping[str, Any]]
) -> list[TargetSummary]:
    """An empty summary per target, with a score summary per evaluator."""
    return [
        TargetSummary(
            index,
            dict(target),
            labels[index],
            {
                str(evaluator["id"]): ScoreSummary(
                    str(evaluator["id"]), str(evaluator["key"]), int(evaluator["version"])
                )
                for evaluator in evaluators
            },
        )
        for index, target in enumerate(targets)
    ]
