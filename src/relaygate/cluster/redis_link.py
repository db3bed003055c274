"""The optional shared Redis: one client per process, and what to do when it is down.

Everything relaygate keeps in Redis (catalog invalidation, the shared cache, shared
rate-limit counters and budgets, breaker state) has an in-process fallback. Callers ask
``link.client`` and treat ``None`` as "use the local fallback". When a command fails
with a connection error the caller calls ``link.lost(exc)``; the link logs that once,
reports Redis as down (health, metrics) and a background task pings until it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("relaygate.redis")


class RedisLink:
    def __init__(self, url: str | None, *, check_interval: float = 1.0) -> None:
        self.url = url
        self._check_interval = check_interval
        self._client: Redis | None = (
            Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0, health_check_interval=0)
            if url
            else None
        )
        self.up = False
        self.outages = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def configured(self) -> bool:
        return self._client is not None

    @property
    def client(self) -> Redis | None:
        """The client while Redis is reachable; None when it is not configured or down."""
        return self._client if self.up else None

    def lost(self, exc: BaseException) -> None:
        if self.up:
            self.outages += 1
            log.warning(
                "Redis is unreachable (%s); using in-process fallbacks until it returns", type(exc).__name__
            )
        self.up = False

    async def _ping(self) -> bool:
        if self._client is None:
            return False
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            self.lost(exc)
            return False
        if not self.up:
            # Pooled connections from before the outage are dead: without this, the first
            # command on each would fail and count (and log) as a new outage.
            await self._client.connection_pool.disconnect()
            log.info("Redis is reachable at %s", self._redacted())
        self.up = True
        return True

    def _redacted(self) -> str:
        url = self.url or ""
        if "@" in url:
            scheme, _, rest = url.partition("://")
            return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return url

    async def start(self) -> None:
        if self._client is None:
            return
        if not await self._ping():
            self.outages += 1
            log.warning(
                "Redis at %s is unreachable at start; using in-process fallbacks until it answers",
                self._redacted(),
            )
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._check_interval)
            if not self.up:
                await self._ping()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()
