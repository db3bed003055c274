"""The request log's pure parts: status filters (SQL and in memory agree), a routing story
kept bounded, accounting of the asked model and the story, body logging's redaction and bound."""

from __future__ import annotations

import time
from typing import Any

import pytest

from relaygate.router.call import DisabledModel, PreparedCall, UnknownModel
from relaygate.router.endpoints import ENDPOINTS
from relaygate.router.policy import MAX_STORY, RouteRecord
from relaygate.router.relay import Relayed
from relaygate.store.request_log import BadFilter, LogFilter, status_clause
from relaygate.usage.accounting import ASKED_MODEL_CHARS, CallEnd, account
from relaygate.usage.body_log import BodyLog
from relaygate.usage.identity import Attribution

from support.models import routable_model

MODEL = routable_model()
BODY: dict[str, Any] = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("word", "inside", "outside"),
    [
        ("ok", [200, 302], [0, 400, 500]),
        ("error", [0, 400, 429, 503], [200]),
        ("4xx", [400, 429, 499], [200, 500, 0]),
        ("5xx", [500, 504], [499, 200]),
        ("429", [429], [428, 430]),
    ],
)
def test_status_words_match_in_memory_as_in_sql(word: str, inside: list[int], outside: list[int]) -> None:
    status_clause(word)  # accepted by the SQL side too
    where = LogFilter("w1", status=word)
    entry: dict[str, Any] = {"model": {"asked": "m", "used": "m"}, "key": None, "identity": None,
                             "deployment": None, "request_id": "r"}  # fmt: skip
    assert all(where.matches({**entry, "status": status}) for status in inside)
    assert not any(where.matches({**entry, "status": status}) for status in outside)


@pytest.mark.parametrize("word", ["6xx", "abc", "20", "2000", "ok!"])
def test_bad_status_words_are_refused_naming_the_parameter(word: str) -> None:
    with pytest.raises(BadFilter) as refused:
        LogFilter("w1", status=word)
    assert refused.value.param == "status"
    assert "4xx" in str(refused.value)


def test_the_filter_matches_asked_or_used_model_key_and_identity() -> None:
    entry: dict[str, Any] = {
        "model": {"asked": "a/one", "used": "b/two"}, "key": {"id": "k1"}, "identity": "u-1",
        "deployment": {"key": "d"}, "request_id": "req_1", "status": 200,
    }  # fmt: skip
    assert LogFilter("w1", model="a/one").matches(entry)
    assert LogFilter("w1", model="b/two").matches(entry)
    assert not LogFilter("w1", model="c/three").matches(entry)
    assert LogFilter("w1", api_key_id="k1", identity_id="u-1", deployment_key="d").matches(entry)
    assert not LogFilter("w1", api_key_id="k2").matches(entry)
    assert not LogFilter("w1", request_id="req_2").matches(entry)


def test_a_routing_story_is_bounded_and_timed() -> None:
    record = RouteRecord(MODEL)
    began = time.perf_counter()
    for _ in range(MAX_STORY + 5):
        record.note(MODEL, 503, None, began, "retry")
    assert record.story is not None
    assert len(record.story) == MAX_STORY
    router_id, upstream, status, error, elapsed, kind = record.story[0]
    assert (router_id, upstream, status, error, kind) == (MODEL.router_id, MODEL.model_id, 503, None, "retry")
    assert elapsed >= 0


def _call() -> PreparedCall:
    return PreparedCall(ENDPOINTS["/chat/completions"], MODEL, BODY, False, {}, Attribution.of({}, None))


def test_accounting_keeps_the_story_and_the_model_asked_for_when_another_answered() -> None:
    backup = routable_model(router_id="backup/gpt-test")
    record = RouteRecord(backup, attempts=2, fallback=True)
    record.note(MODEL, 503, None, 0.0, "first")
    record.note(backup, 200, None, 0.0, "fallback")
    event = account(CallEnd("w1", "k1", "chat.completions", "req_1", _call(), record, Relayed(status=200)))
    assert event.router_model == "backup/gpt-test"
    assert event.requested_model == MODEL.router_id
    assert event.attempt_log == record.story
    plain = account(
        CallEnd(
            "w1",
            "k1",
            "chat.completions",
            "req_2",
            _call(),
            RouteRecord(MODEL, attempts=1),
            Relayed(status=200),
        )
    )
    assert plain.requested_model is None  # the model asked for answered
    assert plain.attempt_log is None  # a plain call's one attempt is the event itself


@pytest.mark.parametrize("error", [UnknownModel("no/such"), DisabledModel("no/such")])
def test_a_refused_model_is_recorded_by_the_name_asked(error: UnknownModel | DisabledModel) -> None:
    end = CallEnd("w1", "k1", "chat.completions", "req_1", error=error, asked_model=error.router_id)
    event = account(end)
    assert (event.router_model, event.upstream_model) == ("no/such", None)
    assert event.error_code == error.code
    assert event.error_message == str(error)
    long = account(CallEnd("w1", "k1", "chat.completions", "req_2", error=error, asked_model="x" * 1000))
    assert long.router_model == "x" * ASKED_MODEL_CHARS


def test_a_disabled_model_is_a_403_the_sdks_do_not_retry() -> None:
    error = DisabledModel("fake/gpt-test")
    assert (error.status, error.code, error.param) == (403, "model_disabled", "model")
    assert "disabled" in str(error)


def test_body_logging_redacts_secrets_and_cuts_at_the_limit() -> None:
    log = BodyLog(64)
    text = log.text(b'{"content": "key sk-proj-abcdef123456 and Bearer tok.en.value"}')
    assert "sk-proj-abcdef123456" not in text
    assert "tok.en.value" not in text
    assert "[redacted]" in text
    cut = log.text(b"x" * 200)
    assert cut.startswith("x" * 64)
    assert cut.endswith("[cut: 200 bytes in all]")
