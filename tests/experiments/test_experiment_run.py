"""A run of three datapoints on two targets (a model, and a deployment on another model),
scored by exact match and by a judge, over real sockets: every score, cost and count is
known in advance. Progress through GET and the SSE stream; summary; CSV and JSONL exports."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import orjson
import pytest

from experiments.conftest import (
    COUNTRIES,
    DEPLOYMENT_ANSWERS,
    EXPECTED,
    JUDGE_SCORES,
    MODEL_ANSWERS,
    SYSTEM,
    Lab,
    generation_cost,
    question,
    wait_for,
)
from relaygate.sse import event_fields, split_events

from support.usage_events import usage_events

ANSWERS = (MODEL_ANSWERS, DEPLOYMENT_ANSWERS)


def _spend(country: str, target: int) -> float:
    """One item's cost: its generation and its judge's call (a prompt of the fixed wording)."""
    return generation_cost(country, ANSWERS[target], with_system=target == 1)


def _events(lab: Lab, experiment_id: str, **params: Any) -> list[tuple[str, dict[str, Any], str | None]]:
    """Every event of the experiment's progress stream until it ends: (name, data, id)."""
    url = f"{lab.workspace.server.url}/v2/experiments/{experiment_id}/events"
    headers = {"authorization": f"Bearer {lab.workspace.admin_key}"}
    with httpx.stream("GET", url, headers=headers, params=params, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = response.read()
    events = []
    for event in split_events(body):
        fields = dict(event_fields(event))
        if b"data" in fields:
            name = fields.get(b"event", b"message").decode()
            event_id = fields[b"id"].decode() if b"id" in fields else None
            events.append((name, orjson.loads(fields[b"data"]), event_id))
    return events


@pytest.fixture(scope="module")
def finished(lab: Lab) -> dict[str, Any]:
    """One experiment, run to its end; the upstreams' requests counted."""
    lab.reset()
    created = lab.create(parameters={"temperature": 0.1}, concurrency=2)
    assert (created["status"], created["progress"]["total"]) == ("draft", 0)
    started = lab.post(created["id"], "start")
    assert (started["status"], started["progress"]["total"]) == ("running", 6)
    done = wait_for(lab, created["id"])
    counts = {
        "model": len(lab.model_upstream.requests_to("/chat/completions")),
        "deployment": len(lab.deployment_upstream.requests_to("/chat/completions")),
        "judge": len(lab.judge_upstream.requests_to("/chat/completions")),
        "sent_to_deployment": [
            request.json for request in lab.deployment_upstream.requests_to("/chat/completions")
        ],
        "sent_to_model": [request.json for request in lab.model_upstream.requests_to("/chat/completions")],
    }
    return {"experiment": done, "counts": counts}


def test_every_datapoint_goes_to_every_target_once_and_progress_adds_up(finished: dict[str, Any]) -> None:
    experiment, counts = finished["experiment"], finished["counts"]
    assert experiment["status"] == "completed"
    spend = sum(_spend(country, target) for country in COUNTRIES for target in (0, 1))
    progress = experiment["progress"]
    assert (progress["total"], progress["done"], progress["failed"], progress["remaining"]) == (6, 6, 0, 0)
    assert progress["spend_usd"] > spend, "the generations, and the judge's calls"
    assert (counts["model"], counts["deployment"], counts["judge"]) == (3, 3, 6)
    for sent in counts["sent_to_deployment"]:
        assert sent["messages"][0] == {"role": "system", "content": SYSTEM}, "the deployment's template first"
        assert sent["stream"] is True
        assert sent["temperature"] == 0.1
    assert {sent["messages"][-1]["content"] for sent in counts["sent_to_model"]} == {
        question(c) for c in COUNTRIES
    }


def test_results_hold_each_answer_with_its_exact_scores(lab: Lab, finished: dict[str, Any]) -> None:
    experiment = finished["experiment"]
    page = lab.get(experiment["id"], "results", limit=2)
    assert page["has_more"] is True
    assert len(page["data"]) == 2
    rest = lab.get(experiment["id"], "results", limit=2, starting_after=page["data"][-1]["datapoint_id"])
    assert rest["has_more"] is False
    rows = page["data"] + rest["data"]
    assert [row["datapoint_id"] for row in rows] == lab.datapoints
    for country, row in zip(COUNTRIES, rows, strict=True):
        assert row["expected_output"] == EXPECTED[country]
        assert [result["target"] for result in row["results"]] == [0, 1]
        for target, result in enumerate(row["results"]):
            answer = ANSWERS[target][country]
            assert (result["status"], result["output"], result["error"]) == ("done", answer, None)
            exact, judge = result["scores"]
            assert (exact["key"], exact["value"], exact["passed"]) == (
                "exact",
                float(answer == EXPECTED[country]),
                answer == EXPECTED[country],
            )
            score = JUDGE_SCORES[answer]
            assert (judge["key"], judge["value"], judge["passed"], judge["reason"], judge["error"]) == (
                "judge",
                float(score),
                score >= 3,
                f"{answer} rated {score}.",
                None,
            )
            assert result["cost_usd"] == pytest.approx(_spend(country, target))
            assert result["evaluation_cost_usd"] > 0, "the judge's call is priced too"
            assert result["latency_ms"] > 0
            assert 0 < result["ttft_ms"] <= result["latency_ms"]
            assert result["tokens"]["completion"] == len(answer.split())
        assert row["results"][0]["answered_by"] == lab.model
        assert row["results"][1]["deployment_version"] == 1
        assert row["results"][1]["target_label"] == f"deployment:{lab.deployment}"


def test_the_summary_compares_the_targets(lab: Lab, finished: dict[str, Any]) -> None:
    summary = lab.get(finished["experiment"]["id"], "summary")
    first, second = summary["targets"]
    assert (first["label"], second["label"]) == (f"model:{lab.model}", f"deployment:{lab.deployment}")
    for target, shaped in enumerate((first, second)):
        answers = ANSWERS[target]
        assert (shaped["items"], shaped["done"], shaped["failed"], shaped["errors"]["count"]) == (3, 3, 0, 0)
        exact, judge = shaped["scores"]
        right = sum(answers[c] == EXPECTED[c] for c in COUNTRIES)
        assert (exact["mean"], exact["pass_rate"]) == (pytest.approx(right / 3), pytest.approx(right / 3))
        scores = sorted(float(JUDGE_SCORES[answers[c]]) for c in COUNTRIES)
        assert judge["mean"] == pytest.approx(sum(scores) / 3)
        assert judge["pass_rate"] == pytest.approx(sum(s >= 3 for s in scores) / 3)
        assert [(b["from"], b["count"]) for b in judge["distribution"]] == [
            (value, scores.count(value)) for value in sorted(set(scores))
        ]
        generation = sum(_spend(c, target) for c in COUNTRIES)
        assert shaped["cost"]["generation_usd"] == pytest.approx(generation)
        assert shaped["cost"]["total_usd"] == pytest.approx(generation + shaped["cost"]["evaluation_usd"])
        assert shaped["cost"]["per_item_usd"] == pytest.approx(shaped["cost"]["total_usd"] / 3)
        assert 0 < shaped["latency_ms"]["p50"] <= shaped["latency_ms"]["p95"]
    totals = first["cost"]["total_usd"] + second["cost"]["total_usd"]
    assert summary["progress"]["spend_usd"] == pytest.approx(totals)


def test_exports_hold_every_result(lab: Lab, finished: dict[str, Any]) -> None:
    experiment_id = finished["experiment"]["id"]
    jsonl = lab.workspace.api("GET", f"/v2/experiments/{experiment_id}/export", params={"format": "jsonl"})
    assert jsonl.status_code == 200
    assert jsonl.headers["content-type"].startswith("application/jsonl")
    lines = [orjson.loads(line) for line in jsonl.content.splitlines()]
    assert [(line["datapoint_id"], line["target"]) for line in lines] == [
        (datapoint, target) for datapoint in lab.datapoints for target in (0, 1)
    ]
    assert [line["output"] for line in lines] == [ANSWERS[t][c] for c in COUNTRIES for t in (0, 1)]
    exported = lab.workspace.api("GET", f"/v2/experiments/{experiment_id}/export", params={"format": "csv"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 6
    assert [(row["output"], row["exact.value"], row["exact.passed"], row["judge.value"]) for row in rows] == [
        (
            ANSWERS[t][c],
            str(float(ANSWERS[t][c] == EXPECTED[c])),
            "true" if ANSWERS[t][c] == EXPECTED[c] else "false",
            str(float(JUDGE_SCORES[ANSWERS[t][c]])),
        )
        for c in COUNTRIES
        for t in (0, 1)
    ]
    assert {row["expected_output"] for row in rows} == set(EXPECTED.values())
    assert (
        lab.workspace.api(
            "GET", f"/v2/experiments/{experiment_id}/export", params={"format": "xml"}
        ).status_code
        == 400
    )


def test_the_stream_replays_every_finished_item_then_ends(lab: Lab, finished: dict[str, Any]) -> None:
    events = _events(lab, finished["experiment"]["id"])
    items = [data for name, data, _ in events if name == "item"]
    assert [data["finished"] for data in items] == [1, 2, 3, 4, 5, 6]
    assert [event_id for name, _, event_id in events if name == "item"] == ["1", "2", "3", "4", "5", "6"]
    assert sorted((data["datapoint_id"], data["target"]) for data in items) == sorted(
        (datapoint, target) for datapoint in lab.datapoints for target in (0, 1)
    )
    assert events[-1][0] == "status"
    assert events[-1][1]["status"] == "completed"
    later = _events(lab, finished["experiment"]["id"], since=4)
    assert [data["finished"] for name, data, _ in later if name == "item"] == [5, 6]


def test_the_stream_follows_a_run_live(fresh: Lab) -> None:
    created = fresh.create(concurrency=1)
    fresh.post(created["id"], "start")
    events = _events(fresh, created["id"])
    statuses = [data["status"] for name, data, _ in events if name == "status"]
    assert statuses[0] == "running"
    assert statuses[-1] == "completed"
    finished_counts = [data["finished"] for name, data, _ in events if name == "item"]
    assert finished_counts == [1, 2, 3, 4, 5, 6]
    assert events[-1][1]["progress"]["done"] == 6


def test_every_call_is_a_usage_event_tagged_with_the_experiment(lab: Lab, finished: dict[str, Any]) -> None:
    experiment_id = finished["experiment"]["id"]
    events = [
        event
        for event in usage_events(lab.workspace, 12)
        if (event.get("metadata") or {}).get("experiment_id") == experiment_id
    ]
    generations = [event for event in events if event.get("name") == f"experiment:{experiment_id}"]
    judged = [event for event in events if event.get("name") == "evaluator:judge"]
    assert (len(generations), len(judged)) == (6, 6)
    assert {event.get("deployment_key") for event in generations} == {None, lab.deployment}
    assert all(event["stream"] for event in generations)
    assert {(event["metadata"]["datapoint_id"], event["metadata"]["target"]) for event in generations} == {
        (datapoint, str(target)) for datapoint in lab.datapoints for target in (0, 1)
    }
    recorded = sum(event["cost_nano"] for event in events)
    assert recorded == pytest.approx(finished["experiment"]["progress"]["spend_nano"]), (
        "the run's spend is the router's"
    )
