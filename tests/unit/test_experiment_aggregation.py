"""Per-target aggregates of experiment results, in process: percentiles, distributions,
pass rates, costs and errors, with exact numbers."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.experiments.aggregation import distribution, percentile, target_summaries

EVALUATORS = [
    {"id": "ev-exact", "key": "exact", "version": 1},
    {"id": "ev-judge", "key": "judge", "version": 3},
]


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.95, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 0.5, 2.5),  # order does not matter
        ([10.0, 20.0, 30.0, 40.0, 50.0], 0.95, 48.0),  # rank 3.8: 40 + 0.8 * 10
        ([10.0, 20.0], 0.0, 10.0),
        ([10.0, 20.0], 1.0, 20.0),
    ],
)
def test_percentiles_interpolate_between_the_nearest_ranks(
    values: list[float], fraction: float, expected: float | None
) -> None:
    assert percentile(values, fraction) == expected


def test_few_distinct_values_are_counted_each() -> None:
    assert distribution([4.0, 2.0, 4.0, 5.0]) == [
        {"from": 2.0, "to": 2.0, "count": 1},
        {"from": 4.0, "to": 4.0, "count": 2},
        {"from": 5.0, "to": 5.0, "count": 1},
    ]
    assert distribution([]) == []


def test_many_values_fall_in_equal_bins_the_last_one_closed() -> None:
    values = [float(n) for n in range(21)]  # 0..20: 21 distinct values, bins of width 2
    bins = distribution(values, bins=10)
    assert [(b["from"], b["to"]) for b in bins[:2]] == [(0.0, 2.0), (2.0, 4.0)]
    assert [b["count"] for b in bins] == [2, 2, 2, 2, 2, 2, 2, 2, 2, 3]  # 20 is in the last bin
    assert sum(b["count"] for b in bins) == 21


def _result(latency: float, exact: bool, judge: float | None, **fields: Any) -> dict[str, Any]:
    judge_score = (
        {"evaluator_id": "ev-judge", "value": judge, "passed": judge >= 3, "reason": "ok", "error": None}
        if judge is not None
        else {
            "evaluator_id": "ev-judge",
            "value": None,
            "passed": None,
            "reason": None,
            "error": "unreadable",
        }
    )
    return {
        "latency_ms": latency,
        "ttft_ms": latency / 2,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "cost_nano": 1000,
        "eval_cost_nano": 200,
        "scores": [
            {
                "evaluator_id": "ev-exact",
                "value": float(exact),
                "passed": exact,
                "reason": None,
                "error": None,
            },
            judge_score,
        ],
        **fields,
    }


def test_a_targets_summary_has_exact_scores_latencies_costs_and_errors() -> None:
    (summary,) = target_summaries([{"model": "fake/a"}], ["model:fake/a"], EVALUATORS)
    summary.add("done", _result(100.0, True, 4.0))
    summary.add("done", _result(200.0, False, 2.0))
    summary.add("done", _result(300.0, True, None))
    summary.add("failed", {"error": "HTTP 502: down", "cost_nano": 0})
    summary.add("failed", {"error": "HTTP 502: down"})
    summary.add("pending", {})

    shaped = summary.as_dict()
    assert (shaped["items"], shaped["done"], shaped["failed"], shaped["remaining"]) == (6, 3, 2, 1)
    assert shaped["latency_ms"] == {"p50": 200.0, "p95": 290.0}
    assert shaped["ttft_ms"] == {"p50": 100.0, "p95": 145.0}
    assert shaped["tokens"] == {"prompt_tokens": 30, "completion_tokens": 15, "total_tokens": 45}
    assert shaped["cost"]["total_nano"] == 3600
    assert shaped["cost"]["generation_usd"] == pytest.approx(3e-6)
    assert shaped["cost"]["evaluation_usd"] == pytest.approx(6e-7)
    assert shaped["cost"]["per_item_usd"] == pytest.approx(3600e-9 / 5)  # over finished items
    assert shaped["errors"] == {"count": 2, "messages": [{"message": "HTTP 502: down", "count": 2}]}
    exact, judge = shaped["scores"]
    assert (exact["key"], exact["count"], exact["mean"], exact["pass_rate"]) == (
        "exact",
        3,
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
    )
    assert exact["distribution"] == [
        {"from": 0.0, "to": 0.0, "count": 1},
        {"from": 1.0, "to": 1.0, "count": 2},
    ]
    assert (judge["count"], judge["errors"], judge["mean"], judge["min"], judge["max"]) == (
        2,
        1,
        3.0,
        2.0,
        4.0,
    )
    assert (judge["passed"], judge["failed"], judge["pass_rate"]) == (1, 1, 0.5)


def test_a_target_with_nothing_finished_has_no_numbers() -> None:
    (summary,) = target_summaries([{"deployment": "d", "version": None}], ["deployment:d"], EVALUATORS)
    summary.add("pending", {})
    shaped = summary.as_dict()
    assert shaped["latency_ms"] == {"p50": None, "p95": None}
    assert shaped["cost"]["per_item_usd"] is None
    assert [score["pass_rate"] for score in shaped["scores"]] == [None, None]
    assert (shaped["deployment"], shaped["label"], shaped["target"]) == ("d", "deployment:d", 0)
