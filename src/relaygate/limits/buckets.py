"""Per-minute limits as token buckets: local, or shared through Redis in small batches.

A bucket holds up to ``limit`` units and refills at ``limit`` per minute. A request is
admitted while its requests bucket holds a whole unit and its tokens bucket is above
zero; tokens are debited after the call with what it really used (the bucket may go
negative: later calls wait until it refills).

Shared mode (Redis configured and up): each process keeps a local view of the global
bucket and decides locally, so the common case costs no round trip. What it takes is
counted as ``unsynced`` and pushed to Redis, where a script applies it to the global
bucket and returns the new level, either by the background sync (every few tens of
milliseconds, all dirty buckets in one pipeline) or, before admitting, when a bucket's
unsynced and in-flight amount reached its batch (``limit // 20``, at least 1). A
process therefore never holds a whole batch the others do not know about: N processes
overshoot a limit by at most about N batches (docs/limits.md has the measurement).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from relaygate.cluster.redis_link import redis_failures

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

log = logging.getLogger("relaygate.limits")

BATCH_FRACTION = 20  # a process may hold up to limit/20 unsynced units
BUCKET_TTL_S = 120

# KEYS[1]: the bucket hash; ARGV: capacity, refill per second, units taken since last sync.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'level', 'stamp')
local level = tonumber(state[1])
local stamp = tonumber(state[2])
if level == nil then
  level = capacity
  stamp = now
end
level = math.min(capacity, level + (now - stamp) * rate) - tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'level', tostring(level), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return tostring(level)
"""


@dataclass(slots=True)
class Bucket:
    key: str
    limit: int
    level: float
    stamp: float
    unsynced: float = 0.0
    in_flight: float = 0.0  # units sent in the round trip under way
    syncing: asyncio.Future[None] | None = None

    @property
    def rate(self) -> float:
        return self.limit / 60.0

    @property
    def batch(self) -> int:
        return max(1, self.limit // BATCH_FRACTION)

    def current(self, now: float) -> float:
        return min(float(self.limit), self.level + (now - self.stamp) * self.rate)

    def take(self, units: float, now: float, *, shared: bool) -> None:
        """Take ``units`` (negative: give back); shared buckets remember them for the sync."""
        self.level = self.current(now) - units
        self.stamp = now
        if shared:
            self.unsynced += units

    def reset_after(self, now: float) -> float:
        """Seconds until the bucket is full again (OpenAI's x-ratelimit-reset-*)."""
        return max(0.0, (self.limit - self.current(now)) / self.rate)

    def retry_after(self, now: float, need: float = 1.0) -> float:
        return max(0.0, (need - self.current(now)) / self.rate)


class Buckets:
    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._buckets: dict[str, Bucket] = {}
        self._script: AsyncScript | None = None

    def get(self, rule_id: str, kind: str, limit: int) -> Bucket:
        key = f"{rule_id}:{kind}:{limit}"
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = Bucket(key, limit, float(limit), time.monotonic())
            self._buckets[key] = bucket
        return bucket

    def forget_idle(self, now: float) -> None:
        """Drop buckets that are full and synced: they hold nothing a new one would not."""
        for key in [
            key
            for key, bucket in self._buckets.items()
            if not bucket.unsynced and bucket.syncing is None and bucket.current(now) >= bucket.limit
        ]:
            del self._buckets[key]

    # -- shared mode ----------------------------------------------------------------

    def needs_sync(self, bucket: Bucket) -> bool:
        """Has this process taken a whole batch the others may not know about yet?"""
        return bucket.unsynced + bucket.in_flight >= bucket.batch

    async def sync_until_known(self, client: Redis, bucket: Bucket) -> None:
        """Wait until less than a batch of this bucket is unknown to Redis."""
        while self.needs_sync(bucket):
            if bucket.syncing is not None:
                await bucket.syncing
            else:
                await self._sync(client, [bucket])

    async def sync_dirty(self, client: Redis) -> None:
        dirty = [b for b in self._buckets.values() if b.unsynced and b.syncing is None]
        if dirty:
            await self._sync(client, dirty)

    async def _sync(self, client: Redis, buckets: list[Bucket]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sent = [bucket.unsynced for bucket in buckets]
        for bucket, units in zip(buckets, sent, strict=True):
            bucket.unsynced, bucket.in_flight, bucket.syncing = 0.0, units, future
        try:
            levels = await self._run(client, buckets, sent)
        except redis_failures():
            for bucket, units in zip(buckets, sent, strict=True):
                bucket.unsynced = min(bucket.unsynced + units, float(bucket.limit))
            raise
        else:
            now = time.monotonic()
            for bucket, level in zip(buckets, levels, strict=True):
                # What this process took while the round trip was in flight is still unsynced.
                bucket.level = float(level) - bucket.unsynced
                bucket.stamp = now
        finally:
            for bucket in buckets:
                bucket.in_flight, bucket.syncing = 0.0, None
            future.set_result(None)

    async def _run(self, client: Redis, buckets: list[Bucket], sent: list[float]) -> list[str]:
        if self._script is None:
            self._script = client.register_script(_TAKE)
        async with client.pipeline(transaction=False) as pipe:
            for bucket, units in zip(buckets, sent, strict=True):
                args = [bucket.limit, bucket.rate, units, BUCKET_TTL_S]
                await self._script(keys=[self._prefix + bucket.key], args=args, client=pipe)
            results = await pipe.execute()
        return [result.decode() if isinstance(result, bytes) else str(result) for result in results]


def duration_text(seconds: float) -> str:
    """OpenAI's reset format: ``120ms``, ``1s``, ``6m0s``."""
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    if seconds < 60:
        whole = math.ceil(seconds * 10) / 10
        return f"{whole:g}s"
    minutes, rest = divmod(math.ceil(seconds), 60)
    return f"{minutes}m{rest}s"
