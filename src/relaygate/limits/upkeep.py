"""Keeping budget ledgers seeded from the store, so that no call waits for the store.

When the rules load (start-up, any budget change), every live budget's ledger of the
current period is seeded from the stored usage events, and the next period's is opened
at zero (nothing can be spent in a period that has not started). Then, in the
background (``Limiter.run``):

- a ledger a call opened before it was seeded (a budget another process created a
  moment ago, a Redis restart, the store down at start-up) is seeded within one tick
  (``RELAYGATE_LIMITS_SYNC_INTERVAL``); the calls admitted meanwhile were checked
  against what this ledger knew (``budgets.py``);
- every ``refresh_s`` the same preparation runs again (a new period's ledger is ready
  before its first call). Without Redis it also raises every ledger to the store's
  figure, which is how processes that do not share ledgers see each other's spend;
  with Redis it does so once after an outage, whose settlements never reached Redis.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.cluster.redis_link import RedisLink, redis_failures
from relaygate.limits.budgets import Ledger, LocalLedgers, ledger_of, next_ledger_of
from relaygate.limits.loading import stored_spend
from relaygate.limits.rules import Rule
from relaygate.limits.shared_ledgers import SharedLedgers
from relaygate.store.records import utcnow

LEDGER_REFRESH_S = 60.0


class LedgerUpkeep:
    def __init__(
        self,
        engine: AsyncEngine,
        local: LocalLedgers,
        shared: SharedLedgers,
        redis: RedisLink,
        *,
        refresh_s: float = LEDGER_REFRESH_S,
    ) -> None:
        self._engine = engine
        self._local = local
        self._shared = shared
        self._redis = redis
        self._refresh_s = refresh_s
        self._prepared_at = -refresh_s
        self._outages_seen = redis.outages

    async def prepare(self, budgets: Iterable[Rule], now: datetime, *, refresh: bool = False) -> None:
        """Seed the current ledgers of ``budgets`` that need it (all of them with
        ``refresh``) and open the next period's."""
        live = [rule for rule in budgets if rule.amount_nano is not None and rule.live(now.timestamp())]
        current = [ledger_of(rule, now) for rule in live]
        ahead = [ledger for rule in live if (ledger := next_ledger_of(rule, now)) is not None]
        self._prepared_at = time.monotonic()
        client = self._redis.client
        if client is not None:
            outages = self._redis.outages
            try:
                stale = current if refresh else await self._shared.needing_seed(client, current)
                spent = await stored_spend(self._engine, stale)
                await self._shared.seed(client, [(ledger, spent.get(ledger.key, 0)) for ledger in stale])
                await self._shared.seed(client, [(ledger, 0) for ledger in ahead], only_open=True)
            except redis_failures() as exc:
                self._redis.lost(exc)
            else:
                self._outages_seen = outages
                self._local.keep_only(set())  # while Redis is up, local ledgers are not kept current
                return
        stale = current if refresh else [ledger for ledger in current if self._local.needs_seed(ledger)]
        self._seed_local(stale, await stored_spend(self._engine, stale))
        for ledger in ahead:
            self._local.open(ledger)
        self._local.keep_only({ledger.key for ledger in current + ahead})

    async def tick(self, budgets: Iterable[Rule]) -> None:
        """One background round: seed what calls opened, prepare again when it is time."""
        await self._seed_opened()
        client = self._redis.client
        after_outage = client is not None and self._redis.outages != self._outages_seen
        if after_outage or time.monotonic() - self._prepared_at >= self._refresh_s:
            await self.prepare(budgets, utcnow(), refresh=after_outage or not self._redis.configured)

    async def _seed_opened(self) -> None:
        opened = list(self._local.unseeded.values())
        if opened:
            self._seed_local(opened, await stored_spend(self._engine, opened))
        client = self._redis.client
        opened = list(self._shared.unseeded.values())
        if opened and client is not None:
            spent = await stored_spend(self._engine, opened)
            try:
                await self._shared.seed(client, [(ledger, spent.get(ledger.key, 0)) for ledger in opened])
            except redis_failures() as exc:
                self._redis.lost(exc)

    def _seed_local(self, ledgers: list[Ledger], spent: dict[str, int]) -> None:
        for ledger in ledgers:
            self._local.seed(ledger, spent.get(ledger.key, 0))
