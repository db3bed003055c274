"""Fixtures for the evaluator tests: a remote scorer, and a workspace with a judge model and
an embedding model played by the fake upstream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from evaluators.scorer import Scorer

from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream

# What the judge answers, by the output it is shown ("Answer: <output>" is the last line).
JUDGE_ANSWERS = {
    "clear": '{"score": 4, "reason": "Clear and correct."}',
    "vague": '{"score": 2, "reason": "Too vague."}',
    "polite": '{"passed": true, "reason": "Polite."}',
    "chatty": "Sure! I'd rate this a 4.",
    "excessive": '{"score": 9, "reason": "Off the scale."}',
}


def judge_reply(body: dict[str, Any]) -> str:
    shown = str(body["messages"][-1]["content"]).rsplit("Answer: ", 1)[-1]
    return JUDGE_ANSWERS.get(shown, "no verdict")


@pytest.fixture(scope="session")
def scorer() -> Iterator[Scorer]:
    server = Scorer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def judge_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(reply=judge_reply) as server:
        yield server


@pytest.fixture(scope="module")
def judged(relaygate: RelaygateServer, judge_upstream: FakeUpstream) -> tuple[Workspace, str, str]:
    """A workspace, its judge (a chat model) and its embedding model, by router id."""
    workspace = relaygate.new_workspace("evals")
    judge = workspace.add_model(judge_upstream, "gpt-test", provider="judge")["router_id"]
    embedder = workspace.add_model(judge_upstream, "embed-test", provider="embed", model_type="embedding")
    return workspace, str(judge), str(embedder["router_id"])
