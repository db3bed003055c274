"""Budget ledgers shared by every process through Redis: one hash per ledger.

A ledger is a hash of ``spent`` and ``reserved`` (nano-USD), and ``provisional`` while a
call opened it before the store's figure was merged in (``budgets.py`` has the rule).
Reserving is one script (read, compare, ``HINCRBY``): one round trip per call that a
budget applies to. A call that finds no ledger (a Redis restart, an evicted key) opens
it provisionally at zero instead of asking the store, and the limiter seeds it in the
background. Settlements (release the reservation, add the real cost) go to Redis in the
background sync; until they arrive the ledger over-counts, which can only refuse early.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from relaygate.limits.budgets import Ledger, Refusal, Standing

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

# KEYS[1]: the ledger; ARGV: reservation, amount, ttl (0: none).
# Returns {admitted 0|1, spent, reserved, provisional 0|1}; spent and reserved before it.
_RESERVE = """
local state = redis.call('HMGET', KEYS[1], 'spent', 'reserved', 'provisional')
local spent = tonumber(state[1])
local provisional = 0
if spent == nil then
  spent = 0
  provisional = 1
  redis.call('HSET', KEYS[1], 'spent', 0, 'reserved', 0, 'provisional', 1)
  if tonumber(ARGV[3]) > 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[3])
  end
elseif state[3] then
  provisional = 1
end
local reserved = tonumber(state[2]) or 0
if spent + reserved + tonumber(ARGV[1]) > tonumber(ARGV[2]) then
  return {0, spent, reserved, provisional}
end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[1])
return {1, spent, reserved, provisional}
"""
# KEYS[1]: the ledger; ARGV: cost to add, reservation to release. A ledger that vanished
# is not recreated by a late settlement: it is seeded again from the store, which has the cost.
_SETTLE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
if redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(ARGV[2])) < 0 then
  redis.call('HSET', KEYS[1], 'reserved', 0)
end
return 1
"""
# KEYS[1]: the ledger; ARGV: what the store says was spent, ttl (0: none), only_open (1: a
# ledger whose period has not started, created at zero unless it exists).
_SEED = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'reserved', 0)
  if tonumber(ARGV[2]) > 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
  end
  return 1
end
if ARGV[3] == '1' then
  return 0
end
if redis.call('HDEL', KEYS[1], 'provisional') == 1 then
  redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
  return 1
end
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent')) or 0
if tonumber(ARGV[1]) > spent then
  redis.call('HSET', KEYS[1], 'spent', ARGV[1])
end
return 1
"""


class SharedLedgers:
    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._scripts: tuple[AsyncScript, AsyncScript, AsyncScript] | None = None
        self._unsettled: dict[str, tuple[int, int]] = {}  # key -> (cost, reservation) not yet sent
        self.unseeded: dict[str, Ledger] = {}  # opened provisionally by a call

    def _scripts_of(self, client: Redis) -> tuple[AsyncScript, AsyncScript, AsyncScript]:
        if self._scripts is None:
            register = client.register_script
            self._scripts = (register(_RESERVE), register(_SETTLE), register(_SEED))
        return self._scripts

    async def reserve(self, client: Redis, ledger: Ledger, amount: int, reservation: int) -> Refusal | None:
        script = self._scripts_of(client)[0]
        admitted, spent, reserved, provisional = await script(
            keys=[self._prefix + ledger.key], args=[reservation, amount, ledger.ttl_s]
        )
        if provisional:
            self.unseeded[ledger.key] = ledger
        if admitted:
            return None
        return Refusal(ledger, Standing(int(spent), int(reserved)), reservation)

    def settle(self, ledger: Ledger, reserved: int, cost: int) -> None:
        """Queue a settlement for the next flush (``Limiter.sync``)."""
        before = self._unsettled.get(ledger.key, (0, 0))
        self._unsettled[ledger.key] = (before[0] + cost, before[1] + reserved)

    @property
    def has_unsettled(self) -> bool:
        return bool(self._unsettled)

    async def flush(self, client: Redis) -> None:
        pending, self._unsettled = self._unsettled, {}
        settle = self._scripts_of(client)[1]
        try:
            async with client.pipeline(transaction=False) as pipe:
                for key, (cost, reserved) in pending.items():
                    await settle(keys=[self._prefix + key], args=[cost, reserved], client=pipe)
                await pipe.execute()
        except BaseException:
            for key, (cost, reserved) in pending.items():
                before = self._unsettled.get(key, (0, 0))
                self._unsettled[key] = (before[0] + cost, before[1] + reserved)
            raise

    # -- seeding, off the request path ----------------------------------------------

    async def needing_seed(self, client: Redis, ledgers: Sequence[Ledger]) -> list[Ledger]:
        """The ledgers Redis does not hold, or holds provisionally."""
        if not ledgers:
            return []
        async with client.pipeline(transaction=False) as pipe:
            for ledger in ledgers:
                pipe.hmget(self._prefix + ledger.key, "spent", "provisional")
            states = await pipe.execute()
        return [
            ledger
            for ledger, (spent, provisional) in zip(ledgers, states, strict=True)
            if spent is None or provisional is not None
        ]

    async def seed(
        self, client: Redis, seeds: Sequence[tuple[Ledger, int]], *, only_open: bool = False
    ) -> None:
        """Merge the store's figure into each ledger; ``only_open``: create the ledgers of
        periods not started yet at zero, leaving any that exist alone."""
        if not seeds:
            return
        script = self._scripts_of(client)[2]
        async with client.pipeline(transaction=False) as pipe:
            for ledger, stored in seeds:
                args = [stored, ledger.ttl_s, int(only_open)]
                await script(keys=[self._prefix + ledger.key], args=args, client=pipe)
            await pipe.execute()
        for ledger, _ in seeds:
            self.unseeded.pop(ledger.key, None)

    async def standing(self, client: Redis, ledger: Ledger) -> Standing | None:
        spent, reserved, provisional = await client.hmget(
            self._prefix + ledger.key, ["spent", "reserved", "provisional"]
        )
        if spent is None or provisional is not None:
            return None
        return Standing(int(spent), int(reserved or 0))
