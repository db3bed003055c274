"""Fixtures for the experiment tests: a workspace with two targets played by fake upstreams
with known answers per question (a model, and a deployment on another model), a judge played
by a third, an exact-match and a judge evaluator, and a dataset of three questions. Every
expected score is exact: the answers, the judge's scores and the prices are fixed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from support.deployment_calls import create_deployment
from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream

COUNTRIES = ("France", "Italy", "Spain")
EXPECTED = {"France": "Paris", "Italy": "Rome", "Spain": "Madrid"}
MODEL_ANSWERS = {"France": "Paris", "Italy": "Rome", "Spain": "Barcelona"}  # target 0: 2 of 3 right
DEPLOYMENT_ANSWERS = {"France": "Paris", "Italy": "Milan", "Spain": "Madrid"}  # target 1: 2 of 3 right
JUDGE_SCORES = {"Paris": 5, "Rome": 4, "Barcelona": 1, "Milan": 2, "Madrid": 5}
SYSTEM = "Answer with one word."
JUDGE_PROMPT = "Question: {{input}}\nAnswer: {{output}}"
# USD per 1M tokens (tokens are the fake's words): 0.001 USD a prompt word, 0.002 an answer word.
INPUT_COST, OUTPUT_COST = "1000", "2000"
TERMINAL = ("completed", "cancelled", "budget_reached", "failed", "paused")


def question(country: str) -> str:
    return f"What is the capital of {country}?"


def _asked(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])


def answering(answers: dict[str, str]) -> Any:
    """A fake upstream's reply: the answer to the country the last message asks about."""

    def reply(body: dict[str, Any]) -> str:
        asked = _asked(body)
        return next((answer for country, answer in answers.items() if country in asked), "unknown")

    return reply


def judge_reply(body: dict[str, Any]) -> str:
    shown = _asked(body).rsplit("Answer: ", 1)[-1]
    score = JUDGE_SCORES.get(shown)
    if score is None:
        return "no verdict"
    return json.dumps({"score": score, "reason": f"{shown} rated {score}."})


def generation_cost(country: str, answers: dict[str, str], with_system: bool = False) -> float:
    """What one generation costs: its prompt's words and its answer's, at the fixed prices."""
    prompt_words = len(question(country).split()) + (len(SYSTEM.split()) if with_system else 0)
    return prompt_words * 0.001 + len(answers[country].split()) * 0.002


@dataclass
class Lab:
    workspace: Workspace
    model_upstream: FakeUpstream
    deployment_upstream: FakeUpstream
    judge_upstream: FakeUpstream
    model: str  # target 0's router id
    deployment: str  # target 1's key
    exact: str  # evaluator ids
    judge: str
    dataset: str
    datapoints: list[str]  # in the dataset's order: France, Italy, Spain

    def reset(self) -> None:
        for upstream in (self.model_upstream, self.deployment_upstream, self.judge_upstream):
            upstream.reset()

    def create(self, **overrides: Any) -> dict[str, Any]:
        """A draft experiment over both targets and both evaluators (``overrides`` replace fields)."""
        body = {
            "name": "capitals",
            "dataset_id": self.dataset,
            "targets": [{"model": self.model}, {"deployment": self.deployment}],
            "evaluators": [self.exact, self.judge],
            **overrides,
        }
        response = self.workspace.api("POST", "/v2/experiments", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def post(self, experiment_id: str, action: str, **kwargs: Any) -> dict[str, Any]:
        response = self.workspace.api("POST", f"/v2/experiments/{experiment_id}/{action}", **kwargs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def get(self, experiment_id: str, part: str = "", **params: Any) -> dict[str, Any]:
        path = f"/v2/experiments/{experiment_id}" + (f"/{part}" if part else "")
        response = self.workspace.api("GET", path, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())


def add_dataset(workspace: Workspace, countries: tuple[str, ...] | list[str]) -> tuple[str, list[str]]:
    """A dataset asking for each country's capital (the expected output); its id and datapoint ids."""
    created = workspace.api("POST", "/v2/datasets", json={"display_name": "capitals"})
    assert created.status_code == 200, created.text
    dataset = str(created.json()["_id"])
    items = [
        {
            "messages": [{"role": "user", "content": question(country)}],
            "expected_output": EXPECTED.get(country, "?"),
        }
        for country in countries
    ]
    added = workspace.api("POST", f"/v2/datasets/{dataset}/datapoints/bulk", json={"items": items})
    assert added.status_code == 200, added.text
    return dataset, [str(point["_id"]) for point in added.json()]


def add_evaluator(workspace: Workspace, body: dict[str, Any]) -> str:
    response = workspace.api("POST", "/v2/evaluators", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["_id"])


def wait_for(
    lab: Lab, experiment_id: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 30.0
) -> dict[str, Any]:
    """The experiment once its status is one of ``statuses`` and no process holds it any more."""
    deadline = time.monotonic() + timeout
    while True:
        found = lab.get(experiment_id)
        if found["status"] in statuses:
            return found
        assert time.monotonic() < deadline, f"the experiment is still {found['status']}: {found['progress']}"
        time.sleep(0.05)


def wait_until(lab: Lab, experiment_id: str, done: int, timeout: float = 30.0) -> dict[str, Any]:
    """The experiment once at least ``done`` items are finished."""
    deadline = time.monotonic() + timeout
    while True:
        found = lab.get(experiment_id)
        if found["progress"]["done"] + found["progress"]["failed"] >= done:
            return found
        assert time.monotonic() < deadline, f"only {found['progress']} after {timeout} s"
        time.sleep(0.02)


def make_lab(
    server: RelaygateServer,
    model_upstream: FakeUpstream,
    deployment_upstream: FakeUpstream,
    judge_upstream: FakeUpstream,
) -> Lab:
    workspace = server.new_workspace("experiments")
    prices = {"input_cost": INPUT_COST, "output_cost": OUTPUT_COST}
    model = str(workspace.add_model(model_upstream, "gpt-test", provider="alpha", **prices)["router_id"])
    other = str(workspace.add_model(deployment_upstream, "gpt-test", provider="beta", **prices)["router_id"])
    judge_model = str(
        workspace.add_model(judge_upstream, "gpt-test", provider="judge", **prices)["router_id"]
    )
    deployment = create_deployment(workspace, other, messages=[{"role": "system", "content": SYSTEM}])
    exact = add_evaluator(
        workspace, {"type": "function_eval", "key": "exact", "function_params": {"type": "exact_match"}}
    )
    judge = add_evaluator(
        workspace,
        {
            "type": "llm_eval",
            "key": "judge",
            "model": judge_model,
            "prompt": JUDGE_PROMPT,
            "output_type": "number",
            "min": 1,
            "max": 5,
            "threshold": 3,
        },
    )
    dataset, datapoints = add_dataset(workspace, COUNTRIES)
    return Lab(
        workspace,
        model_upstream,
        deployment_upstream,
        judge_upstream,
        model,
        deployment,
        exact,
        judge,
        dataset,
        datapoints,
    )


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[FakeUpstream, FakeUpstream, FakeUpstream]]:
    with (
        FakeUpstream(reply=answering(MODEL_ANSWERS)) as model,
        FakeUpstream(reply=answering(DEPLOYMENT_ANSWERS)) as deployment,
        FakeUpstream(reply=judge_reply) as judge,
    ):
        yield model, deployment, judge


@pytest.fixture(scope="module")
def lab(relaygate: RelaygateServer, upstreams: tuple[FakeUpstream, FakeUpstream, FakeUpstream]) -> Lab:
    return make_lab(relaygate, *upstreams)


@pytest.fixture
def fresh(lab: Lab) -> Lab:
    lab.reset()
    return lab
