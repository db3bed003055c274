"""What an experiment asks each target, and how it reads the streamed answer (in process)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from relaygate.deployments.config import release_of
from relaygate.errors import InvalidRequest
from relaygate.experiments.definition import Target, attribution, check_parameters
from relaygate.experiments.requests import NoMessages, evaluation_input, request_body
from relaygate.experiments.streaming import AnswerStream
from relaygate.sse import DONE, encode_event

ASKED = [{"role": "user", "content": "And its population?"}]
TAGS = attribution("01EXPERIMENT", "01DATAPOINT", 1)


def test_a_model_target_gets_the_datapoints_messages_streamed_and_attributed() -> None:
    body = request_body(Target(model="fake/a"), {"messages": ASKED}, {"temperature": 0.3}, TAGS, None)
    assert body == {
        "model": "fake/a",
        "messages": ASKED,
        "temperature": 0.3,
        "stream": True,
        "stream_options": {"include_usage": True},
        "name": "experiment:01EXPERIMENT",
        "metadata": {"experiment_id": "01EXPERIMENT", "datapoint_id": "01DATAPOINT", "target": "1"},
    }
    with pytest.raises(NoMessages):
        request_body(Target(model="fake/a"), {"inputs": {"city": "Rome"}}, None, TAGS, None)


def test_a_deployment_at_its_current_version_is_the_routers_deployment_model() -> None:
    body = request_body(
        Target(deployment="city-facts"), {"inputs": {"city": "Rome"}, "messages": ASKED}, None, TAGS, None
    )
    assert (body["model"], body["inputs"], body["messages"]) == (
        "deployment/city-facts",
        {"city": "Rome"},
        ASKED,
    )


def test_a_pinned_version_is_rendered_here_with_its_parameters_under_the_runs() -> None:
    content: dict[str, Any] = {
        "model": "fake/b",
        "messages": [{"role": "system", "content": "Facts about {{city}}."}],
        "parameters": {"temperature": 0.9, "max_tokens": 40},
        "fallbacks": [{"model": "fake/c"}],
    }
    release = release_of("dep", "ws", "city-facts", 2, "v2", content, datetime.now(UTC))
    body = request_body(
        Target(deployment="city-facts", version=2),
        {"inputs": {"city": "Rome"}, "messages": ASKED},
        {"temperature": 0.1},
        TAGS,
        release,
    )
    assert body["model"] == "fake/b"
    assert body["messages"] == [{"role": "system", "content": "Facts about Rome."}, *ASKED]
    assert (body["temperature"], body["max_tokens"]) == (0.1, 40), "the run's parameters win"
    assert body["fallbacks"] == [{"model": "fake/c"}], "the version's routing comes along"
    assert "inputs" not in body


@pytest.mark.parametrize(
    ("datapoint", "shown"),
    [
        ({"messages": [{"role": "system", "content": "Be brief."}, *ASKED]}, "And its population?"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}, "Hi"),
        ({"inputs": {"city": "Rome"}}, {"city": "Rome"}),
        ({"inputs": {"city": "Rome"}, "messages": ASKED}, {"inputs": {"city": "Rome"}, "messages": ASKED}),
        ({}, None),
    ],
)
def test_what_an_evaluator_is_shown_as_the_input(datapoint: dict[str, Any], shown: Any) -> None:
    assert evaluation_input(datapoint) == shown


def test_parameters_the_run_sets_itself_are_refused() -> None:
    assert check_parameters({"temperature": 0}) == {"temperature": 0}
    with pytest.raises(InvalidRequest) as refused:
        check_parameters({"metadata": {}})
    assert refused.value.param == "parameters.metadata"


def _chunk(**fields: Any) -> bytes:
    return encode_event(orjson.dumps({"object": "chat.completion.chunk", **fields}))


async def _read(status: int, headers: list[tuple[bytes, bytes]], parts: list[bytes]) -> Any:
    stream = AnswerStream(started=0.0)
    await stream({"type": "http.response.start", "status": status, "headers": headers})
    for part in parts:
        await stream({"type": "http.response.body", "body": part, "more_body": True})
    return stream.answer()


def test_a_streamed_answer_is_read_with_its_first_token_usage_and_model() -> None:
    headers = [(b"x-relaygate-model", b"fake/b"), (b"x-relaygate-deployment-version", b"3")]
    role = _chunk(choices=[{"index": 0, "delta": {"role": "assistant"}}])
    words = [_chunk(choices=[{"index": 0, "delta": {"content": word}}]) for word in ("Rome", " is")]
    usage = _chunk(choices=[], usage={"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6})
    stream = role + words[0] + words[1] + usage + DONE
    answer = asyncio.run(_read(200, headers, [stream[:7], stream[7:50], stream[50:]]))
    assert (answer.text, answer.error, answer.model, answer.deployment_version) == (
        "Rome is",
        None,
        "fake/b",
        3,
    )
    assert answer.usage == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    assert answer.ttft_ms is not None
    assert answer.cache_hit is False


def test_an_error_event_or_status_is_the_answers_error() -> None:
    event = encode_event(orjson.dumps({"error": {"message": "upstream went away"}}))
    cut = asyncio.run(_read(200, [], [_chunk(choices=[{"index": 0, "delta": {"content": "Ro"}}]) + event]))
    assert cut.error == "The stream ended with an error: upstream went away"
    refused = asyncio.run(_read(429, [], [b'{"error": {"message": "slow down"}}']))
    assert (refused.error, refused.ttft_ms, refused.text) == ("HTTP 429: slow down", None, "")
