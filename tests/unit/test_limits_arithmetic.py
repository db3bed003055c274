"""The limits' arithmetic, in process: token buckets, budget ledgers, periods, the
reservation bound and what a refusal says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relaygate.limits.buckets import Bucket, duration_text
from relaygate.limits.budgets import LocalLedgers, Refusal, Standing, ledger_of, next_ledger_of
from relaygate.limits.refusals import budget_exceeded
from relaygate.limits.reservation import completion_bound, prompt_bound, reservation_nano
from relaygate.limits.rules import Rule, RuleSet

from support.limits import prepared_call, priced_model

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # a Sunday
CAP = 1024


def _budget(period: str | None = "day", amount_nano: int = 1000) -> Rule:
    return Rule("b-1", "ws-1", "api_key", "key-1", amount_nano=amount_nano, period=period)


# -- token buckets ----------------------------------------------------------------------


def test_a_bucket_refills_at_its_limit_per_minute_and_may_go_below_zero() -> None:
    bucket = Bucket("r:requests:60", 60, 60.0, 0.0)
    bucket.take(60, 0.0, shared=False)
    assert bucket.current(0.0) == 0
    assert bucket.current(30.0) == 30  # one unit a second
    assert bucket.current(600.0) == 60  # never above the limit
    assert bucket.reset_after(30.0) == 30
    bucket.take(31, 30.0, shared=False)  # tokens are debited after the call: below zero
    assert bucket.current(30.0) == -1
    assert bucket.retry_after(30.0) == 2
    assert bucket.unsynced == 0


def test_a_shared_bucket_counts_what_redis_has_not_seen_in_batches_of_a_twentieth() -> None:
    bucket = Bucket("r:requests:600", 600, 600.0, 0.0)
    bucket.take(1, 0.0, shared=True)
    bucket.take(1, 0.0, shared=True)
    assert bucket.unsynced == 2
    assert bucket.batch == 30
    assert Bucket("r:requests:10", 10, 10.0, 0.0).batch == 1


@pytest.mark.parametrize(("seconds", "text"), [(0.12, "120ms"), (1, "1s"), (19.84, "19.9s"), (360, "6m0s")])
def test_reset_durations_read_as_openai_writes_them(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


# -- rules ------------------------------------------------------------------------------


def test_a_call_gets_its_workspace_key_and_identity_rules_only() -> None:
    workspace = Rule("w", "ws-1", "workspace", None, requests_per_minute=10)
    key = Rule("k", "ws-1", "api_key", "key-1", requests_per_minute=5)
    identity = Rule("i", "ws-1", "identity", "user-1", requests_per_minute=1)
    other = Rule("o", "ws-2", "workspace", None, requests_per_minute=1)
    rules = RuleSet.of([workspace, key, identity, other])
    assert rules.applicable("ws-1", "key-1", "user-1") == (workspace, key, identity)
    assert rules.applicable("ws-1", "key-2", "user-2") == (workspace,)
    assert rules.applicable("ws-3", "key-1", None) == (key,)
    assert not Rule("x", "ws-1", "workspace", None, expires_at=NOW.timestamp()).live(NOW.timestamp())


# -- periods ----------------------------------------------------------------------------


def test_a_daily_ledger_is_keyed_by_its_day_and_the_next_one_follows() -> None:
    ledger = ledger_of(_budget("day"), NOW)
    assert ledger.key == "ledger:b-1:day:2026-11-22"
    assert (ledger.start, ledger.end) == (
        datetime(2026, 11, 22, tzinfo=UTC),
        datetime(2026, 11, 23, tzinfo=UTC),
    )
    assert ledger.ttl_s == 2 * 86_400  # its day, and a day of grace for late settlements
    following = next_ledger_of(_budget("day"), NOW)
    assert following is not None
    assert following.key == "ledger:b-1:day:2026-11-23"


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("week", datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)),  # Monday to Monday
        ("month", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        (None, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),  # the default: a month
    ],
)
def test_weeks_start_on_monday_and_months_on_the_first(
    period: str | None, start: datetime, end: datetime
) -> None:
    ledger = ledger_of(_budget(period), NOW)
    assert (ledger.start, ledger.end) == (start, end)


def test_a_total_budget_never_starts_again() -> None:
    ledger = ledger_of(_budget("total"), NOW)
    assert (ledger.key, ledger.end, ledger.ttl_s) == ("ledger:b-1:total:1970-01-01", None, 0)
    assert next_ledger_of(_budget("total"), NOW) is None


# -- ledgers ----------------------------------------------------------------------------


def test_a_ledger_admits_while_spent_and_reserved_leave_room_and_settles_to_the_real_cost() -> None:
    ledgers, ledger = LocalLedgers(), ledger_of(_budget(), NOW)
    ledgers.seed(ledger, 300)
    assert ledgers.reserve(ledger, 1000, 400) is None
    assert ledgers.reserve(ledger, 1000, 300) is None  # 300 + 400 + 300 = the whole budget
    refused = ledgers.reserve(ledger, 1000, 1)
    assert refused == Refusal(ledger, Standing(300, 700), 1)
    ledgers.settle(ledger, 400, 50)  # cost 50 of the 400 reserved
    assert ledgers.standing(ledger) == Standing(350, 300)
    ledgers.settle(ledger, 300, 0)  # a refused or failed call releases its reservation
    assert ledgers.standing(ledger) == Standing(350, 0)


def test_a_ledger_a_call_opens_before_the_store_is_asked_admits_against_what_it_knows() -> None:
    ledgers, ledger = LocalLedgers(), ledger_of(_budget(), NOW)
    assert ledgers.needs_seed(ledger)
    assert ledgers.reserve(ledger, 1000, 600) is None  # no store query: starts at zero
    assert ledgers.unseeded == {ledger.key: ledger}
    assert ledgers.standing(ledger) is None  # not what the budget stands at yet
    ledgers.settle(ledger, 600, 100)
    ledgers.seed(ledger, 250)  # the store's figure is added to what was settled meanwhile
    assert ledgers.unseeded == {}
    assert ledgers.standing(ledger) == Standing(350, 0)


def test_a_seeded_ledger_is_raised_to_the_store_never_lowered() -> None:
    ledgers, ledger = LocalLedgers(), ledger_of(_budget(), NOW)
    ledgers.seed(ledger, 500)
    ledgers.seed(ledger, 200)  # the store trails this process's own settlements
    assert ledgers.standing(ledger) == Standing(500, 0)
    ledgers.seed(ledger, 800)  # other processes spent meanwhile
    assert ledgers.standing(ledger) == Standing(800, 0)


def test_ledgers_are_forgotten_once_no_call_holds_a_reservation() -> None:
    ledgers = LocalLedgers()
    busy, idle = ledger_of(_budget(), NOW), ledger_of(_budget("week"), NOW)
    upcoming = next_ledger_of(_budget(), NOW)
    assert upcoming is not None
    ledgers.open(upcoming)
    ledgers.seed(busy, 0)
    ledgers.seed(idle, 0)
    assert ledgers.reserve(busy, 1000, 10) is None
    ledgers.keep_only({upcoming.key})
    assert ledgers.standing(upcoming) == Standing(0, 0)
    assert ledgers.standing(busy) == Standing(0, 10)
    assert ledgers.needs_seed(idle)
    ledgers.settle(idle, 10, 10)  # a settlement for a forgotten ledger changes nothing
    assert ledgers.needs_seed(idle)


# -- reservation ------------------------------------------------------------------------


def test_the_completion_bound_is_the_clients_then_the_models_then_the_cap() -> None:
    bare, defaulted = priced_model(), priced_model(max_tokens=300)
    assert completion_bound(prepared_call(bare, max_tokens=10), CAP) == 10
    assert completion_bound(prepared_call(defaulted, max_tokens=10), CAP) == 10
    assert completion_bound(prepared_call(defaulted), CAP) == 300
    assert completion_bound(prepared_call(bare), CAP) == CAP
    assert completion_bound(prepared_call(bare, max_tokens=10, n=3), CAP) == 30  # per answer


def test_a_short_call_without_max_tokens_reserves_a_realistic_cost() -> None:
    # gpt-4.1's prices ($2 / $8 per 1M): 100 body bytes and 1024 completion tokens.
    call = prepared_call(priced_model(), size=100)
    assert prompt_bound(call) == 100
    assert reservation_nano(call, CAP) == 100 * 2000 + 1024 * 8000  # $0.008392: fits in $0.01


def test_inputs_only_and_uploads_reserve_what_they_can_cost() -> None:
    model = priced_model()
    assert reservation_nano(prepared_call(model, path="/embeddings", size=100), CAP) == 100 * 2000
    audio = prepared_call(model, path="/audio/transcriptions", size=5_000_000)
    assert prompt_bound(audio) == 0  # an audio file's bytes say nothing of its tokens
    images = priced_model(input_cost=None, output_cost=None, cost_per_image="0.04")
    assert reservation_nano(prepared_call(images, path="/images/generations", n=2), CAP) == 80_000_000


def test_a_reservation_is_rounded_up_to_a_whole_nano_usd() -> None:
    cheap = priced_model(input_cost="0.0000001", output_cost=None)
    assert reservation_nano(prepared_call(cheap, path="/embeddings", size=1), CAP) == 1


# -- refusals ---------------------------------------------------------------------------


def test_a_budget_refusal_states_spent_and_reserved_apart() -> None:
    ledger = ledger_of(_budget("day", amount_nano=10_000_000), NOW)
    error = budget_exceeded(Refusal(ledger, Standing(4_000_000, 1_500_000), 8_392_000), NOW.timestamp())
    assert error.message == (
        "Budget exceeded for this API key: $0.004000 spent and $0.001500 reserved by calls in flight, "
        "of its daily budget of $0.010000; this call could cost up to $0.008392."
    )
    assert (error.status, error.error_type, error.code) == (429, "insufficient_quota", "insufficient_quota")
    assert error.headers["retry-after"] == str(9 * 3600)  # the next day, UTC
