"""The exact-match cache: hits, misses, expiry, streamed replay, isolation, and Redis."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import openai
import pytest
import redis
from openai.types.chat import ChatCompletionMessageParam

from support.server import RelaygateServer, Workspace, free_port
from upstream import FakeUpstream, Fault

ModelMaker = Callable[..., tuple[str, FakeUpstream]]
ServerFactory = Callable[..., RelaygateServer]
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is 2+2?"}]
CHAT = "/chat/completions"
CACHE = {"type": "exact_match", "ttl": 60}


def _ask(workspace: Workspace, model: str, **extra: Any) -> Any:
    return workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES, extra_body={"cache": CACHE, **extra}
    )


def test_second_identical_request_is_a_hit_that_never_reaches_upstream(
    routed: Workspace, make_model: ModelMaker
) -> None:
    model, upstream = make_model("a")
    first = _ask(routed, model)
    second = _ask(routed, model)
    assert first.headers["x-relaygate-cache"] == "miss"
    assert second.headers["x-relaygate-cache"] == "hit"
    assert second.headers["x-relaygate-attempts"] == "0"
    assert second.headers["x-relaygate-model"] == model
    assert second.parse().model_dump() == first.parse().model_dump()
    assert len(upstream.requests) == 1


def test_key_ignores_key_order_and_routing_fields_but_not_parameters(
    routed: Workspace, make_model: ModelMaker
) -> None:
    model, upstream = make_model("a")
    base = {"top_p": 0.5, "metadata_tag": {"b": 1, "a": 2}}
    assert _ask(routed, model, **base).headers["x-relaygate-cache"] == "miss"
    reordered = {"metadata_tag": {"a": 2, "b": 1}, "top_p": 0.5, "retry": {"count": 2}, "name": "x"}
    assert _ask(routed, model, **reordered).headers["x-relaygate-cache"] == "hit"
    nested = {**base, "orq": {"cache": CACHE}}
    raw = routed.client().chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES, extra_body=nested
    )
    assert raw.headers["x-relaygate-cache"] == "hit"
    assert _ask(routed, model, **{**base, "top_p": 0.6}).headers["x-relaygate-cache"] == "miss"
    assert len(upstream.requests) == 2


def test_no_cache_field_means_bypass(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    _ask(routed, model)
    raw = routed.client().chat.completions.with_raw_response.create(model=model, messages=MESSAGES)
    assert raw.headers["x-relaygate-cache"] == "bypass"
    assert len(upstream.requests) == 2


def test_entries_expire_after_their_ttl(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    short = {"cache": {"type": "exact_match", "ttl": 1}}
    assert _ask(routed, model, **short).headers["x-relaygate-cache"] == "miss"
    assert _ask(routed, model, **short).headers["x-relaygate-cache"] == "hit"
    time.sleep(1.2)
    assert _ask(routed, model, **short).headers["x-relaygate-cache"] == "miss"
    assert len(upstream.requests) == 2


def test_only_successful_answers_are_stored(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, [Fault(status=500)])
    with pytest.raises(openai.InternalServerError) as caught:
        _ask(routed, model)
    assert caught.value.response.headers["x-relaygate-cache"] == "miss"
    assert _ask(routed, model).headers["x-relaygate-cache"] == "miss"
    assert _ask(routed, model).headers["x-relaygate-cache"] == "hit"
    assert len(upstream.requests) == 2


def test_workspaces_never_share_entries(
    routing_relaygate: RelaygateServer, routed: Workspace, make_model: ModelMaker
) -> None:
    model, upstream = make_model("a")
    _ask(routed, model)
    other = routing_relaygate.new_workspace()
    provider, model_id = model.split("/")
    other.add_model(upstream, model_id, provider=provider)
    assert _ask(other, model).headers["x-relaygate-cache"] == "miss"


def _stream(workspace: Workspace, model: str, **extra: Any) -> tuple[list[Any], Mapping[str, str]]:
    raw = workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES, stream=True, extra_body={"cache": CACHE}, **extra
    )
    return list(raw.parse()), raw.headers


def test_a_streaming_hit_is_replayed_as_a_valid_stream(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    stored = _ask(routed, model).parse()
    chunks, headers = _stream(routed, model)
    assert headers["x-relaygate-cache"] == "hit"
    assert headers["content-type"].startswith("text/event-stream")
    assert all(chunk.object == "chat.completion.chunk" and chunk.model == model for chunk in chunks)
    assert (
        "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == stored.choices[0].message.content
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == stored.choices[0].finish_reason
    assert all(chunk.usage is None for chunk in chunks)  # the client did not ask for usage
    with_usage, _ = _stream(routed, model, stream_options={"include_usage": True})
    assert with_usage[-1].choices == []
    assert with_usage[-1].usage == stored.usage
    assert len(upstream.requests) == 1


def test_the_replay_is_well_formed_sse_ending_in_done(routed: Workspace, make_model: ModelMaker) -> None:
    model, _ = make_model("a")
    _ask(routed, model)
    response = routed.api(
        "POST",
        "/v3/router/chat/completions",
        json={"model": model, "messages": MESSAGES, "stream": True, "cache": CACHE},
    )
    events = [event for event in response.text.split("\n\n") if event]
    assert all(event.startswith("data: ") for event in events)
    assert events[-1] == "data: [DONE]"


def test_streamed_answers_are_not_stored(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    _, first = _stream(routed, model)
    _, second = _stream(routed, model)
    assert (first["x-relaygate-cache"], second["x-relaygate-cache"]) == ("miss", "miss")
    assert len(upstream.requests) == 2


# -- Redis --------------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private redis-server: (its URL, its process)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (scripts/lib.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_with_redis_entries_live_in_redis_and_survive_its_outage_locally(
    relaygate_factory: ServerFactory,
    fake_upstream: FakeUpstream,
    redis_server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    redis_url, redis_process = redis_server
    server = relaygate_factory(RELAYGATE_REDIS_URL=redis_url)
    workspace = server.new_workspace()
    workspace.add_model(fake_upstream, "gpt-test")
    fake_upstream.reset()
    assert _ask(workspace, "fake/gpt-test").headers["x-relaygate-cache"] == "miss"
    store = redis.Redis.from_url(redis_url)
    keys = store.keys("relaygate:cache:*")
    assert len(keys) == 1
    assert 0 < store.ttl(keys[0]) <= 60
    assert _ask(workspace, "fake/gpt-test").headers["x-relaygate-cache"] == "hit"
    store.flushall()  # the answer came from Redis: without it, a miss
    assert _ask(workspace, "fake/gpt-test").headers["x-relaygate-cache"] == "miss"
    redis_process.terminate()
    redis_process.wait(timeout=10)
    # Redis gone: calls still work, and the in-process LRU takes over. The first may find the
    # answer there already: any Redis command that passed its 1 s timeout on a loaded machine
    # marks the link down until the next ping, and what is stored meanwhile goes to the LRU.
    first = _ask(workspace, "fake/gpt-test").headers["x-relaygate-cache"]
    assert first in ("miss", "hit")
    assert _ask(workspace, "fake/gpt-test").headers["x-relaygate-cache"] == "hit"
    assert len(fake_upstream.requests) == (3 if first == "miss" else 2)
