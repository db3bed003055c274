"""Retries, fallbacks, load balancing and timeouts, driven by the SDK against scripted upstreams."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from support.server import Workspace
from upstream import FakeUpstream, Fault

ModelMaker = Callable[..., tuple[str, FakeUpstream]]
ServerFactory = Callable[..., Any]
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
CHAT = "/chat/completions"


def _create(workspace: Workspace, model: str, **extra: Any) -> Any:
    return workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES, extra_body=extra
    )


def _fails(status: int, count: int = 1, **fields: Any) -> list[Fault]:
    return [Fault(status=status, **fields) for _ in range(count)]


# -- retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retried_codes_are_retried_until_success(
    routed: Workspace, make_model: ModelMaker, status: int
) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, _fails(status, 2))
    raw = _create(routed, model, retry={"count": 2, "on_codes": [429, 500, 502, 503, 504]})
    assert raw.parse().choices[0].message.content == "from a"
    assert raw.headers["x-relaygate-attempts"] == "3"
    assert raw.headers["x-relaygate-fallback"] == "false"
    assert len(upstream.requests) == 3


def test_default_on_codes_are_429_only(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, [Fault(status=429), Fault(status=503)])
    with pytest.raises(openai.InternalServerError) as caught:
        _create(routed, model, retry={"count": 3})
    assert caught.value.status_code == 503  # 429 was retried, 503 (not in [429]) went back as it came
    assert caught.value.response.headers["x-relaygate-attempts"] == "2"
    assert len(upstream.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 501])
def test_definitive_codes_are_never_retried(routed: Workspace, make_model: ModelMaker, status: int) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, _fails(status, 3))
    with pytest.raises(openai.APIStatusError) as caught:
        _create(routed, model, retry={"count": 3, "on_codes": [status, 429]})
    assert caught.value.status_code == status
    assert caught.value.response.headers["x-relaygate-attempts"] == "1"
    assert len(upstream.requests) == 1


def test_retries_give_up_after_count_and_return_the_last_answer(
    routed: Workspace, make_model: ModelMaker
) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, _fails(429, 5))
    with pytest.raises(openai.RateLimitError) as caught:
        _create(routed, model, retry={"count": 2})
    assert caught.value.response.headers["x-relaygate-attempts"] == "3"
    assert len(upstream.requests) == 3


def test_backoff_grows_exponentially_within_jitter_bounds(
    relaygate_factory: ServerFactory, fake_upstream: FakeUpstream
) -> None:
    server = relaygate_factory(RELAYGATE_RETRY_BACKOFF_BASE="0.2")
    workspace = server.new_workspace()
    workspace.add_model(fake_upstream, "gpt-test")
    fake_upstream.script(CHAT, _fails(429, 2))
    started = time.monotonic()
    raw = _create(workspace, "fake/gpt-test", retry={"count": 2})
    elapsed = time.monotonic() - started
    assert raw.headers["x-relaygate-attempts"] == "3"
    # 0.2 s then 0.4 s, each +-25%: between 0.45 s and 0.75 s of waiting in all.
    assert 0.45 <= elapsed < 0.75 + 0.4, elapsed


@pytest.mark.parametrize(
    ("header", "value", "wait"), [("Retry-After", "1", 1.0), ("retry-after-ms", "600", 0.6)]
)
def test_retry_after_shorter_than_the_cap_is_honoured(
    routed: Workspace, make_model: ModelMaker, header: str, value: str, wait: float
) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, [Fault(status=429, headers={header: value})])
    started = time.monotonic()
    raw = _create(routed, model, retry={"count": 1})
    elapsed = time.monotonic() - started
    assert raw.headers["x-relaygate-attempts"] == "2"
    assert wait <= elapsed < wait + 0.5, elapsed  # not the 10 ms backoff of this server


def test_retry_after_longer_than_the_cap_moves_on_at_once(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    backup, _ = make_model("b")
    upstream.script(CHAT, [Fault(status=429, headers={"Retry-After": "30"})])  # the server's cap is 2 s
    started = time.monotonic()
    raw = _create(routed, model, retry={"count": 3}, fallbacks=[{"model": backup}])
    assert time.monotonic() - started < 1.5
    assert raw.headers["x-relaygate-model"] == backup
    assert raw.headers["x-relaygate-attempts"] == "2"


# -- fallbacks ----------------------------------------------------------------------------


def test_fallbacks_are_tried_in_order(routed: Workspace, make_model: ModelMaker) -> None:
    primary, first = make_model("a")
    second_model, second = make_model("b")
    third_model, third = make_model("c")
    fourth_model, fourth = make_model("d")
    first.script(CHAT, _fails(503))
    second.script(CHAT, _fails(500))
    raw = _create(
        routed,
        primary,
        fallbacks=[{"model": second_model}, {"model": third_model}, {"model": fourth_model}],
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "from c"
    assert completion.model == third_model
    assert raw.headers["x-relaygate-model"] == third_model
    assert raw.headers["x-relaygate-fallback"] == "true"
    assert raw.headers["x-relaygate-attempts"] == "3"
    assert [len(up.requests) for up in (first, second, third, fourth)] == [1, 1, 1, 0]
    # Each candidate got its own model id and the body without routing fields.
    assert third.last_request.json["model"] == "gpt-test"
    assert "fallbacks" not in third.last_request.json


def test_each_candidate_gets_its_retries_before_the_next(routed: Workspace, make_model: ModelMaker) -> None:
    primary, first = make_model("a")
    backup, second = make_model("b")
    first.script(CHAT, _fails(503, 3))
    raw = _create(routed, primary, retry={"count": 2, "on_codes": [503]}, fallbacks=[{"model": backup}])
    assert raw.headers["x-relaygate-attempts"] == "4"
    assert (len(first.requests), len(second.requests)) == (3, 1)


def test_fallback_on_a_connection_error(
    routed: Workspace, make_model: ModelMaker, fake_upstream_factory: Callable[..., FakeUpstream]
) -> None:
    dead = fake_upstream_factory()
    model = routed.add_model(dead, "gpt-test", provider="dead")["router_id"]
    dead.stop()
    backup, _ = make_model("b")
    raw = _create(routed, model, fallbacks=[{"model": backup}])
    assert raw.parse().choices[0].message.content == "from b"
    assert raw.headers["x-relaygate-fallback"] == "true"


def test_a_client_error_does_not_fail_over(routed: Workspace, make_model: ModelMaker) -> None:
    primary, first = make_model("a")
    backup, second = make_model("b")
    first.script(CHAT, _fails(400))
    with pytest.raises(openai.BadRequestError) as caught:
        _create(routed, primary, fallbacks=[{"model": backup}])
    assert caught.value.response.headers["x-relaygate-model"] == primary
    assert second.requests == []


def test_fallback_gets_its_own_defaults(routed: Workspace, make_model: ModelMaker) -> None:
    primary, first = make_model("a", max_tokens=11, temperature=0.1)
    backup, second = make_model("b", max_tokens=22)
    first.script(CHAT, _fails(503))
    _create(routed, primary, fallbacks=[{"model": backup}])
    assert first.last_request.json["max_tokens"] == 11
    sent = second.last_request.json
    assert sent["max_tokens"] == 22
    assert "temperature" not in sent  # the primary's default, not the client's


def test_all_candidates_unreachable_is_a_502_that_says_what_happened(
    routed: Workspace, fake_upstream_factory: Callable[..., FakeUpstream]
) -> None:
    names = []
    for label in ("x", "y"):
        dead = fake_upstream_factory()
        names.append(routed.add_model(dead, "gpt-test", provider=f"dead{label}{time.time_ns()}")["router_id"])
        dead.stop()
    with pytest.raises(openai.APIStatusError) as caught:
        _create(routed, names[0], retry={"count": 1}, fallbacks=[{"model": names[1]}])
    assert caught.value.status_code == 502
    headers = caught.value.response.headers
    assert headers["x-relaygate-attempts"] == "4"
    assert headers["x-relaygate-model"] == names[1]
    assert headers["x-relaygate-fallback"] == "true"


# -- load balancing -----------------------------------------------------------------------


def test_weight_based_picks_within_statistical_bounds(routed: Workspace, make_model: ModelMaker) -> None:
    heavy, _ = make_model("heavy")
    light, _ = make_model("light")
    balancer = {
        "type": "weight_based",
        "models": [{"model": heavy, "weight": 3}, {"model": light, "weight": 1}],
    }
    client = routed.client()
    picks = Counter(
        client.chat.completions.with_raw_response.create(
            model=heavy, messages=MESSAGES, extra_body={"load_balancer": balancer}
        ).headers["x-relaygate-model"]
        for _ in range(200)
    )
    # Binomial(200, 0.75): mean 150, sd 6.1; +-4 sd is a false alarm once in ~16,000 runs.
    assert 125 <= picks[heavy] <= 175, picks
    assert picks[heavy] + picks[light] == 200


def test_round_robin_takes_turns(routed: Workspace, make_model: ModelMaker) -> None:
    models = [make_model(label)[0] for label in ("a", "b", "c")]
    balancer = {"type": "round_robin", "models": [{"model": name} for name in models]}
    answered = [
        _create(routed, models[0], load_balancer=balancer).headers["x-relaygate-model"] for _ in range(9)
    ]
    assert Counter(answered) == dict.fromkeys(models, 3)
    assert len(set(answered[:3])) == 3  # one turn each before anyone goes again


def test_the_balancers_other_models_are_the_fallbacks(routed: Workspace, make_model: ModelMaker) -> None:
    primary, first = make_model("a")
    spare, _ = make_model("b")
    first.script(CHAT, _fails(503))
    balancer = {"models": [{"model": primary, "weight": 1}, {"model": spare, "weight": 0}]}
    raw = _create(routed, primary, load_balancer=balancer)
    assert raw.headers["x-relaygate-model"] == spare
    assert raw.headers["x-relaygate-fallback"] == "true"


# -- timeouts -----------------------------------------------------------------------------


def test_call_timeout_fails_over_to_the_next_candidate(routed: Workspace, make_model: ModelMaker) -> None:
    primary, first = make_model("a")
    backup, _ = make_model("b")
    first.script(CHAT, [Fault(delay=5)])
    started = time.monotonic()
    raw = _create(routed, primary, timeout={"call_timeout": 300}, fallbacks=[{"model": backup}])
    assert time.monotonic() - started < 2.0
    assert raw.headers["x-relaygate-model"] == backup


def test_a_timed_out_attempt_is_retried(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, [Fault(delay=5)])
    raw = _create(routed, model, timeout={"call_timeout": 300}, retry={"count": 1})
    assert raw.headers["x-relaygate-attempts"] == "2"
    assert raw.parse().choices[0].message.content == "from a"


def test_call_timeout_without_fallback_is_a_504(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, [Fault(delay=5)])
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        _create(routed, model, timeout={"call_timeout": 300})
    assert caught.value.status_code == 504
    assert time.monotonic() - started < 2.0


def test_server_wide_timeout_per_model_type(
    relaygate_factory: ServerFactory, fake_upstream: FakeUpstream
) -> None:
    server = relaygate_factory(RELAYGATE_CALL_TIMEOUT_CHAT="0.5")
    workspace = server.new_workspace()
    workspace.add_model(fake_upstream, "gpt-test")
    fake_upstream.script(CHAT, [Fault(delay=5), Fault(delay=5)])
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        _create(workspace, "fake/gpt-test")
    assert caught.value.status_code == 504
    assert time.monotonic() - started < 2.0
    with pytest.raises(openai.APIStatusError):  # and for streams, until the upstream answers
        workspace.client().chat.completions.create(model="fake/gpt-test", messages=MESSAGES, stream=True)
    assert time.monotonic() - started < 4.0


# -- streams ------------------------------------------------------------------------------


def _stream_text(workspace: Workspace, model: str, **extra: Any) -> tuple[str, Any]:
    response = workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES, stream=True, extra_body=extra
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in response.parse() if chunk.choices)
    return text, response.headers


@pytest.mark.parametrize(
    "fault", [Fault(status=503), Fault(disconnect_after=0)], ids=["503", "cut-before-data"]
)
def test_a_stream_fails_over_before_its_first_byte(
    routed: Workspace, make_model: ModelMaker, fault: Fault
) -> None:
    primary, first = make_model("a")
    backup, _ = make_model("b")
    first.script(CHAT, [fault])
    text, headers = _stream_text(routed, primary, fallbacks=[{"model": backup}])
    assert text == "from b"
    assert headers["x-relaygate-model"] == backup
    assert headers["x-relaygate-attempts"] == "2"


def test_a_stream_never_fails_over_after_its_first_byte(routed: Workspace, make_model: ModelMaker) -> None:
    primary, first = make_model("a")
    backup, second = make_model("b")
    first.script(CHAT, [Fault(disconnect_after=2)])
    with pytest.raises(openai.APIError):
        _stream_text(routed, primary, fallbacks=[{"model": backup}], retry={"count": 2})
    assert second.requests == []
    assert len(first.requests) == 1


def test_a_silent_stream_ends_with_an_error_event_after_the_idle_timeout(
    routed: Workspace, make_model: ModelMaker
) -> None:
    model, upstream = make_model("a")
    upstream.script(CHAT, [Fault(chunk_delay=4)])  # this server's idle timeout is 1.5 s
    started = time.monotonic()
    with pytest.raises(openai.APIError) as caught:
        _stream_text(routed, model)
    assert "did not answer in time" in str(caught.value)
    assert time.monotonic() - started < 3.5


def test_plain_calls_say_one_attempt_no_fallback_no_cache(routed: Workspace, make_model: ModelMaker) -> None:
    model, _ = make_model("a")
    headers = _create(routed, model).headers
    assert (headers["x-relaygate-attempts"], headers["x-relaygate-fallback"]) == ("1", "false")
    assert headers["x-relaygate-cache"] == "bypass"
    assert headers["x-relaygate-model"] == model
    _, stream_headers = _stream_text(routed, model)
    assert stream_headers["x-relaygate-attempts"] == "1"
