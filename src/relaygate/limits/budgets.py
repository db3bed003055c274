"""Spend budgets, kept exact by reserve-then-settle.

Before a call, the most it can cost (its prompt bound and max tokens at the model's
prices) is reserved against the budget atomically: in Redis by one script when Redis
is configured (so N processes share one ledger), in this process otherwise. A call
that would not fit is refused. After the call, however it ended, the reservation is
replaced by the real cost (``settle``): concurrent calls cannot overspend together.

A ledger is keyed by budget and period (``day:2026-11-22``); a new period starts at
zero. A ledger this process (or Redis) does not hold yet starts from the stored usage
of the period: one store query per budget per period, not per request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.limits import store
from relaygate.limits.rules import DEFAULT_PERIOD, Rule, period_end, period_start

log = logging.getLogger("relaygate.limits")

# KEYS[1]: the ledger; ARGV: reservation, amount. Returns {-1} when the ledger is
# missing (the caller seeds it from the store), {0, spent} when refused, {1, spent}.
_RESERVE = """
local spent = redis.call('GET', KEYS[1])
if not spent then
  return {-1, 0}
end
spent = tonumber(spent)
local reservation = tonumber(ARGV[1])
if spent + reservation > tonumber(ARGV[2]) then
  return {0, spent}
end
return {1, redis.call('INCRBY', KEYS[1], reservation)}
"""
# A ledger that expired or was lost with a Redis restart is seeded again from the store,
# which already holds the settled costs: a late delta must not create it.
_SETTLE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Ledger:
    key: str
    rule: Rule
    period: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class Refusal:
    ledger: Ledger
    spent_nano: int
    reservation_nano: int


def ledger_of(rule: Rule, now: datetime) -> Ledger:
    period = rule.period or DEFAULT_PERIOD
    start = period_start(period, now)
    return Ledger(
        f"budget:{rule.id}:{period}:{start.date().isoformat()}",
        rule,
        period,
        start,
        period_end(period, start),
    )


class Ledgers:
    def __init__(self, engine: AsyncEngine, prefix: str) -> None:
        self._engine = engine
        self._prefix = prefix
        self._local: dict[str, int] = {}
        self._seeding: dict[str, asyncio.Future[int]] = {}
        self._unsettled: dict[str, int] = {}  # shared mode: deltas not yet sent to Redis
        self._scripts: tuple[AsyncScript, AsyncScript] | None = None

    def _scripts_of(self, client: Redis) -> tuple[AsyncScript, AsyncScript]:
        if self._scripts is None:
            self._scripts = (client.register_script(_RESERVE), client.register_script(_SETTLE))
        return self._scripts

    async def _seed(self, ledger: Ledger) -> int:
        """What the ledger's scope spent so far this period, from the store (once per period)."""
        pending = self._seeding.get(ledger.key)
        if pending is not None:
            return await pending
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._seeding[ledger.key] = future
        try:
            rule = ledger.rule
            spent = await store.spent_nano(
                self._engine, rule.workspace_id, rule.scope, rule.subject_id, ledger.period, ledger.start
            )
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters (if any) get it through await
            raise
        finally:
            del self._seeding[ledger.key]
        future.set_result(spent)
        return spent

    # -- in this process ------------------------------------------------------------

    async def reserve_local(self, ledger: Ledger, amount: int, reservation: int) -> Refusal | None:
        if ledger.key not in self._local:
            seeded = await self._seed(ledger)
            self._local.setdefault(ledger.key, seeded)
        spent = self._local[ledger.key]
        if spent + reservation > amount:
            return Refusal(ledger, spent, reservation)
        self._local[ledger.key] = spent + reservation
        return None

    # -- shared through Redis -------------------------------------------------------

    async def reserve_shared(
        self, client: Redis, ledger: Ledger, amount: int, reservation: int
    ) -> Refusal | None:
        key = self._prefix + ledger.key
        script = self._scripts_of(client)[0]
        for _ in range(2):
            outcome, spent = await script(keys=[key], args=[reservation, amount])
            if outcome == 1:
                return None
            if outcome == 0:
                return Refusal(ledger, int(spent), reservation)
            seeded = await self._seed(ledger)
            ttl = None if ledger.end is None else int((ledger.end - ledger.start).total_seconds()) + 86_400
            await client.set(key, seeded, nx=True, ex=ttl)
        raise RuntimeError(f"budget ledger {ledger.key} vanished twice while reserving")

    # -- settling -------------------------------------------------------------------

    def settle(self, ledger: Ledger, delta: int, *, shared: bool) -> None:
        """Replace a reservation by the real cost: ``delta`` = cost - reservation."""
        if not delta:
            return
        if shared:
            self._unsettled[ledger.key] = self._unsettled.get(ledger.key, 0) + delta
        elif ledger.key in self._local:
            self._local[ledger.key] += delta

    @property
    def has_unsettled(self) -> bool:
        return bool(self._unsettled)

    async def flush(self, client: Redis) -> None:
        pending, self._unsettled = self._unsettled, {}
        settle = self._scripts_of(client)[1]
        try:
            async with client.pipeline(transaction=False) as pipe:
                for key, delta in pending.items():
                    await settle(keys=[self._prefix + key], args=[delta], client=pipe)
                await pipe.execute()
        except BaseException:
            for key, delta in pending.items():
                self._unsettled[key] = self._unsettled.get(key, 0) + delta
            raise
