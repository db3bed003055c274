"""The limiter in process, on a real store (SQLite, PostgreSQL) and a real Redis: admission
never queries the store, and budget ledgers are seeded off the request path."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import Principal
from relaygate.cluster.redis_link import RedisLink
from relaygate.errors import RateLimited
from relaygate.limits import BudgetExceeded, Limiter
from relaygate.limits.budgets import Standing
from relaygate.limits.loading import budget_rule
from relaygate.limits.rules import Rule
from relaygate.store import limits as limit_store
from relaygate.usage.events import UsageEvent

from support.limits import (
    DIALECTS,
    forget_redis_keys,
    limiter_on,
    prepared_call,
    priced_model,
    redis_prefix,
    run_on_store,
    started_redis,
    statements_of,
    store_spend,
)

KEY = "key-1"
# A $0.01 daily budget; 100 body bytes and no max_tokens at $2 / $8 per 1M tokens reserve
# 100 x 2,000 + 1,024 x 8,000 nano-USD.
AMOUNT = 10_000_000
RESERVATION = 100 * 2000 + 1024 * 8000


async def _key_budget(engine: AsyncEngine, workspace_id: str) -> Rule:
    fields = {"scope": "api_key", "subject_id": KEY, "amount_nano": AMOUNT, "period": "day"}
    return budget_rule(await limit_store.insert_budget(engine, workspace_id, fields))


def _finished(workspace_id: str, cost_nano: int, tokens: int = 0) -> UsageEvent:
    event = UsageEvent(workspace_id, KEY, "chat.completions", "req-1")
    event.cost_nano, event.total_tokens = cost_nano, tokens
    return event


@pytest.mark.parametrize("dialect", DIALECTS)
def test_admission_never_queries_the_store(dialect: str, tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        await store_spend(engine, workspace_id, KEY, 1_000_000)
        rule = await _key_budget(engine, workspace_id)
        limiter = limiter_on(engine, RedisLink(None))
        await limiter.reload()  # start-up: the rules, and their ledgers seeded from the store
        statements = statements_of(engine)
        principal, call = Principal(workspace_id, KEY, "router"), prepared_call(priced_model(workspace_id))

        ticket = await limiter.admit(principal, call)
        assert ticket is not None
        assert statements == [], "the first call of the period waited for the store"
        assert await limiter.standing(rule) == Standing(1_000_000, RESERVATION)
        limiter.settle(ticket, _finished(workspace_id, 1_000_000))
        assert await limiter.standing(rule) == Standing(2_000_000, 0)
        with pytest.raises(BudgetExceeded) as refused:  # 2,000,000 + 8,392,000 > 10,000,000
            await limiter.admit(principal, call)
        assert "$0.002000 spent and $0.000000 reserved by calls in flight" in refused.value.message
        assert statements == []

    run_on_store(dialect, tmp_path, body)


def test_a_ledger_redis_lost_is_opened_by_the_call_and_seeded_in_the_background(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        await store_spend(engine, workspace_id, KEY, 1_000_000)
        rule = await _key_budget(engine, workspace_id)
        link, prefix = await started_redis(), redis_prefix()
        one, other = limiter_on(engine, link, prefix), limiter_on(engine, link, prefix)
        try:
            await one.reload()
            await other.reload()
            assert await one.standing(rule) == Standing(1_000_000, 0)
            await forget_redis_keys(link, prefix)  # a Redis restart
            statements = statements_of(engine)
            principal, call = (
                Principal(workspace_id, KEY, "router"),
                prepared_call(priced_model(workspace_id)),
            )

            ticket = await one.admit(principal, call)
            assert ticket is not None
            assert statements == [], "the call waited for the store"
            assert await one.standing(rule) is None  # admitted against what Redis knew: nothing yet
            await _run_until_seeded(one, rule)
            assert await other.standing(rule) == Standing(1_000_000, RESERVATION), "one ledger for both"
            one.settle(ticket, _finished(workspace_id, 1_000_000))
            await one.sync()
            assert await other.standing(rule) == Standing(2_000_000, 0)
        finally:
            await forget_redis_keys(link, prefix)
            await link.stop()

    run_on_store("sqlite", tmp_path, body)


async def _run_until_seeded(limiter: Limiter, rule: Rule) -> None:
    runner = asyncio.create_task(limiter.run())
    try:
        deadline = time.monotonic() + 5
        while await limiter.standing(rule) is None:
            assert time.monotonic() < deadline, "the ledger was not seeded in the background"
            await asyncio.sleep(0.01)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def test_admitted_calls_carry_where_the_caller_stands_and_the_call_over_the_limit_is_refused(
    tmp_path: Path,
) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        fields = {"scope": "api_key", "subject_id": KEY, "requests_per_minute": 2}
        await limit_store.insert_budget(engine, workspace_id, fields)
        limiter = limiter_on(engine, RedisLink(None))
        await limiter.reload()
        principal, call = Principal(workspace_id, KEY, "router"), prepared_call(priced_model(workspace_id))
        for left in (b"1", b"0"):
            ticket = await limiter.admit(principal, call)
            assert ticket is not None
            headers = dict(ticket.headers)
            assert headers[b"x-ratelimit-limit-requests"] == b"2"
            assert headers[b"x-ratelimit-remaining-requests"] == left
        with pytest.raises(RateLimited) as refused:
            await limiter.admit(principal, call)
        assert refused.value.code == "rate_limit_exceeded"
        assert refused.value.headers["x-ratelimit-remaining-requests"] == "0"
        assert await limiter.admit(Principal(workspace_id, "key-2", "router"), call) is None  # no rule

    run_on_store("sqlite", tmp_path, body)


def test_tokens_are_debited_when_the_call_settles(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        fields = {"scope": "api_key", "subject_id": KEY, "tokens_per_minute": 1000}
        await limit_store.insert_budget(engine, workspace_id, fields)
        limiter = limiter_on(engine, RedisLink(None))
        await limiter.reload()
        principal, call = Principal(workspace_id, KEY, "router"), prepared_call(priced_model(workspace_id))
        ticket = await limiter.admit(principal, call)
        assert ticket is not None
        limiter.settle(ticket, _finished(workspace_id, 0, tokens=1500))  # a bucket may go below zero
        limiter.settle(ticket, _finished(workspace_id, 0, tokens=1500))  # settled once only
        with pytest.raises(RateLimited) as refused:
            await limiter.admit(principal, call)
        assert "1000 tokens per minute" in refused.value.message
        assert 29 <= int(refused.value.headers["retry-after"]) <= 31  # 501 tokens at 1000 a minute

    run_on_store("sqlite", tmp_path, body)


def test_a_call_admitted_before_the_previous_one_settled_sees_its_tokens_held(tmp_path: Path) -> None:
    """An answer goes out before its usage is accounted: the client's next call may arrive
    in between. The first call's estimate is held from admission, so the next one is
    refused all the same, and settling gives back what the estimate held beyond the use."""

    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        fields = {"scope": "api_key", "subject_id": KEY, "tokens_per_minute": 1000}
        await limit_store.insert_budget(engine, workspace_id, fields)
        limiter = limiter_on(engine, RedisLink(None))
        await limiter.reload()
        principal = Principal(workspace_id, KEY, "router")
        call = prepared_call(priced_model(workspace_id), size=400, max_tokens=900)
        first = await limiter.admit(principal, call)
        assert first is not None
        assert first.tokens_held == 100 + 900  # 400 bytes / 4, plus the bound
        assert dict(first.headers)[b"x-ratelimit-remaining-tokens"] == b"0"
        with pytest.raises(RateLimited):
            await limiter.admit(principal, call)  # the first has not settled: its hold counts
        limiter.settle(first, _finished(workspace_id, 0, tokens=200))  # used 200 of the 1000 held
        second = await limiter.admit(principal, call)
        assert second is not None
        limiter.settle(second, _finished(workspace_id, 0, tokens=200))

    run_on_store("sqlite", tmp_path, body)
