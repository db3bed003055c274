"""An experiment's results as objects, JSONL and CSV (pure).

One result is one datapoint x target: the answer, its status, latency, time to first
token, tokens, cost, error and scores. The same object is a row of the results API, a
line of the JSONL export and the data of an ``item`` progress event. The CSV export has
one row per result with fixed columns, then four per evaluator (``<key>.value``,
``<key>.passed``, ``<key>.reason``, ``<key>.error``); an empty cell is no value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from relaygate.deployments.sdk_shapes import timestamp
from relaygate.spreadsheet import csv_line
from relaygate.store.experiment_items import StoredItem
from relaygate.usage.pricing import nano_to_usd

CSV_COLUMNS = (
    "datapoint_id",
    "target",
    "target_label",
    "status",
    "output",
    "error",
    "latency_ms",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "evaluation_cost_usd",
    "answered_by",
    "expected_output",
)
SCORE_COLUMNS = ("value", "passed", "reason", "error")


def result_object(item: StoredItem, labels: Sequence[str]) -> dict[str, Any]:
    """One datapoint x target's result."""
    result = item.result
    return {
        "datapoint_id": item.datapoint_id,
        "target": item.target,
        "target_label": labels[item.target],
        "status": item.status,
        "output": result.output,
        "error": result.error,
        "latency_ms": result.latency_ms,
        "ttft_ms": result.ttft_ms,
        "tokens": {
            "prompt": result.prompt_tokens,
            "completion": result.completion_tokens,
            "total": result.total_tokens,
        },
        "cost_usd": float(nano_to_usd(result.cost_nano)),
        "evaluation_cost_usd": float(nano_to_usd(result.eval_cost_nano)),
        "answered_by": result.answered_by,
        "deployment_version": result.deployment_version,
        "scores": result.scores or [],
        "finished_at": timestamp(item.finished_at) if item.finished_at else None,
    }


def datapoint_rows(items: Iterable[StoredItem], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Results grouped by datapoint (items come in datapoint then target order): the
    results API's rows, each with the datapoint's inputs and expected output."""
    rows: list[dict[str, Any]] = []
    for item in items:
        if not rows or rows[-1]["datapoint_id"] != item.datapoint_id:
            rows.append(
                {
                    "datapoint_id": item.datapoint_id,
                    "inputs": item.inputs,
                    "expected_output": item.expected_output,
                    "results": [],
                }
            )
        shaped = result_object(item, labels)
        del shaped["datapoint_id"]
        rows[-1]["results"].append(shaped)
    return rows


def jsonl_lines(items: Iterable[StoredItem], labels: Sequence[str]) -> bytes:
    return b"".join(
        orjson.dumps({**result_object(item, labels), "expected_output": item.expected_output}) + b"\n"
        for item in items
    )


def csv_header(evaluator_keys: Sequence[str]) -> str:
    return csv_line([*CSV_COLUMNS, *(f"{key}.{part}" for key in evaluator_keys for part in SCORE_COLUMNS)])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _score_cells(scores: Sequence[Mapping[str, Any]], evaluator_ids: Sequence[str]) -> list[str]:
    by_id = {str(score.get("evaluator_id")): score for score in scores}
    return [
        _cell(by_id.get(evaluator_id, {}).get(part))
        for evaluator_id in evaluator_ids
        for part in SCORE_COLUMNS
    ]


def csv_lines(items: Iterable[StoredItem], labels: Sequence[str], evaluator_ids: Sequence[str]) -> str:
    lines = []
    for item in items:
        shaped = result_object(item, labels)
        tokens = shaped.pop("tokens")
        cells = {
            **shaped,
            "prompt_tokens": tokens["prompt"],
            "completion_tokens": tokens["completion"],
            "total_tokens": tokens["total"],
            "expected_output": item.expected_output,
        }
        lines.append(
            csv_line(
                [
                    *(_cell(cells[name]) for name in CSV_COLUMNS),
                    *_score_cells(item.result.scores or [], evaluator_ids),
                ]
            )
        )
    return "".join(lines)
