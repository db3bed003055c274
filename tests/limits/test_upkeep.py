"""Budget ledgers kept ready off the request path, on a real store: the next period's ledger
exists before its first call, and without Redis a refresh brings in other processes' spend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.cluster.redis_link import RedisLink
from relaygate.limits.budgets import LocalLedgers, Standing, ledger_of, next_ledger_of
from relaygate.limits.loading import budget_rule, stored_spend
from relaygate.limits.rules import Rule
from relaygate.limits.shared_ledgers import SharedLedgers
from relaygate.limits.upkeep import LedgerUpkeep
from relaygate.store import limits as limit_store
from relaygate.store.records import utcnow

from support.limits import run_on_store, statements_of, store_spend


def _upkeep(engine: AsyncEngine) -> tuple[LedgerUpkeep, LocalLedgers]:
    local = LocalLedgers()
    return LedgerUpkeep(engine, local, SharedLedgers("unused:"), RedisLink(None)), local


async def _budget(engine: AsyncEngine, workspace_id: str, scope: str, subject: str | None) -> Rule:
    fields = {"scope": scope, "subject_id": subject, "amount_nano": 10_000_000, "period": "day"}
    return budget_rule(await limit_store.insert_budget(engine, workspace_id, fields))


def test_the_next_periods_ledger_is_ready_before_its_first_call(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        rule = await _budget(engine, workspace_id, "api_key", "key-1")
        upkeep, local = _upkeep(engine)
        late = utcnow().replace(hour=23, minute=59, second=59)
        await upkeep.prepare([rule], late)
        tomorrow = next_ledger_of(rule, late)
        assert tomorrow is not None
        assert tomorrow.start == ledger_of(rule, late + timedelta(seconds=1)).start
        assert local.standing(tomorrow) == Standing(0, 0)
        assert not local.needs_seed(tomorrow)

    run_on_store("sqlite", tmp_path, body)


def test_without_redis_a_refresh_brings_in_what_other_processes_spent(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        rule = await _budget(engine, workspace_id, "api_key", "key-1")
        await store_spend(engine, workspace_id, "key-1", 1_000)
        upkeep, local = _upkeep(engine)
        now = utcnow()
        await upkeep.prepare([rule], now)
        assert local.standing(ledger_of(rule, now)) == Standing(1_000, 0)
        await store_spend(engine, workspace_id, "key-1", 2_000)  # a call another process served
        statements = statements_of(engine)
        await upkeep.prepare([rule], now)  # seeded ledgers are left alone between refreshes
        assert statements == []
        await upkeep.prepare([rule], now, refresh=True)
        assert local.standing(ledger_of(rule, now)) == Standing(3_000, 0)

    run_on_store("sqlite", tmp_path, body)


def test_every_ledger_of_a_workspace_is_seeded_in_one_query_per_scope(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        keys = [f"key-{number}" for number in range(3)]
        rules = [await _budget(engine, workspace_id, "api_key", key) for key in keys]
        rules.append(await _budget(engine, workspace_id, "workspace", None))
        for number, key in enumerate(keys):
            await store_spend(engine, workspace_id, key, 1_000 * (number + 1))
        await store_spend(engine, workspace_id, "key-unbudgeted", 5)
        now = utcnow()
        statements = statements_of(engine)
        spent = await stored_spend(engine, [ledger_of(rule, now) for rule in rules])
        assert [spent[ledger_of(rule, now).key] for rule in rules] == [1_000, 2_000, 3_000, 6_005]
        assert len(statements) == 2

    run_on_store("sqlite", tmp_path, body)
