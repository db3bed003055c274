"""``usage.accounting.account``: the one function that builds a call's usage event (issue 22)."""

from __future__ import annotations

from typing import Any

from relaygate.errors import InvalidRequest
from relaygate.router.call import PreparedCall
from relaygate.router.endpoints import ENDPOINTS
from relaygate.router.policy import RouteRecord
from relaygate.router.relay import Relayed
from relaygate.usage.accounting import CallEnd, account
from relaygate.usage.extract import StreamText
from relaygate.usage.identity import Attribution

from support.models import routable_model

MODEL = routable_model()  # $1 in, $2 out per 1M tokens
BODY: dict[str, Any] = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "Say hello"}]}
USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}


def _end(relayed: Relayed | None = None, *, stream: bool = False, **fields: Any) -> CallEnd:
    who = Attribution.of(
        {"identity": {"id": "u-1"}, "thread": {"id": "t-1", "tags": ["a"]}, "name": "n"}, None
    )
    call = PreparedCall(ENDPOINTS["/chat/completions"], MODEL, BODY, stream, {}, who)
    record = RouteRecord(MODEL, attempts=1)
    return CallEnd("w1", "k1", "chat.completions", "req_1", call, record, relayed, **fields)


def test_a_streamed_answer_with_usage_is_counted_and_priced() -> None:
    event = account(_end(Relayed(status=200, usage=USAGE, answered=True, ttfb_ms=3.0), stream=True))
    assert (event.status, event.stream, event.error_code) == (200, True, None)
    assert (event.prompt_tokens, event.completion_tokens, event.total_tokens) == (1000, 500, 1500)
    assert not event.estimated
    assert event.cost_nano == 2_000_000  # 1000 x $1/1M + 500 x $2/1M = $0.002
    assert (event.router_model, event.upstream_model) == ("fake/gpt-test", "gpt-test")
    assert (event.identity_id, event.thread_id, event.thread_tags, event.name) == ("u-1", "t-1", ["a"], "n")
    assert event.ttfb_ms == 3.0


def test_an_answer_without_usage_is_estimated_from_the_body_and_the_answer() -> None:
    answer = {
        "object": "chat.completion",
        "choices": [{"message": {"role": "assistant", "content": "Hello!"}}],
    }
    event = account(_end(Relayed(status=200, answer=answer)))
    assert event.estimated
    assert event.prompt_tokens > 0
    assert event.completion_tokens > 0
    assert event.cost_nano > 0


def test_a_refusal_before_the_body_was_read_names_no_model() -> None:
    end = CallEnd(
        "w1", "k1", "chat.completions", "req_1", error=InvalidRequest("bad JSON", code="invalid_json")
    )
    event = account(end)
    assert (event.status, event.error_code, event.router_model, event.cost_nano) == (
        400,
        "invalid_json",
        None,
        0,
    )


def test_a_hang_up_mid_stream_is_499_and_still_counts_what_was_streamed() -> None:
    text = StreamText()
    text.add(b'data: {"choices":[{"delta":{"content":"Hello there"}}]}\n\n')
    event = account(_end(Relayed(status=200, text=text), stream=True, gone=True))
    assert (event.status, event.error_code) == (499, "client_disconnected")
    assert event.estimated
    assert event.completion_tokens > 0


def test_a_hang_up_after_the_end_event_keeps_the_answers_status() -> None:
    event = account(_end(Relayed(status=200, usage=USAGE, answered=True), stream=True, gone=True))
    assert (event.status, event.error_code, event.total_tokens) == (200, None, 1500)


def test_a_cached_answer_costs_nothing() -> None:
    event = account(_end(Relayed(status=200, cache_hit=True)))
    assert event.cache_hit
    assert (event.total_tokens, event.cost_nano, event.estimated) == (0, 0, False)


def test_answers_thrown_away_for_breaking_a_strict_schema_are_billed() -> None:
    end = _end(Relayed(status=200, usage=USAGE))
    assert end.record is not None
    end.record.discarded.append({"prompt_tokens": 1000, "completion_tokens": 500})
    event = account(end)
    assert (event.prompt_tokens, event.completion_tokens, event.total_tokens) == (2000, 1000, 3000)
    assert event.cost_nano == 4_000_000


def test_an_upstream_error_is_not_estimated() -> None:
    event = account(_end(Relayed(status=503, error_code="upstream_error")))
    assert (event.status, event.error_code, event.total_tokens, event.estimated) == (
        503,
        "upstream_error",
        0,
        False,
    )
