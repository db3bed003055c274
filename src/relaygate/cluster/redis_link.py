"""The optional shared Redis: one client per process, and what to do when it is down.

Everything relaygate keeps in Redis (catalog invalidation, the shared cache, shared
rate-limit counters and budgets, breaker state) has an in-process fallback. Callers ask
``link.client`` and treat ``None`` as "use the local fallback". When a command fails
with a connection error the caller calls ``link.lost(exc)``; the link logs that once,
reports Redis as down (health, metrics) and a background task pings until it is back.

redis-py is imported only by a process configured to use Redis (``open_client``): its
modules (with the OpenTelemetry SDK's, which redis 8 imports) hold about 17 MB, a sixth of
an idle worker. Code that catches its errors names them through ``redis_failures()``,
which imports nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("relaygate.redis")


def open_client(url: str) -> Redis:
    """A client of the Redis at ``url`` (it connects on its first command), with short
    timeouts: every caller has a fallback, so failing fast beats waiting."""
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0, health_check_interval=0)


def redis_failures() -> tuple[type[Exception], ...]:
    """What a failed Redis command raises, for an ``except`` clause: ``OSError``, and redis's
    own ``RedisError`` once redis is imported. Before that no Redis client exists and no
    ``RedisError`` can be raised, so naming it is no reason to import redis."""
    exceptions = sys.modules.get("redis.exceptions")
    return (OSError,) if exceptions is None else (exceptions.RedisError, OSError)


class RedisLink:
    def __init__(self, url: str | None, *, check_interval: float = 1.0) -> None:
        self.url = url
        self._check_interval = check_interval
        self._client: Redis | None = open_client(url) if url else None
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
        except redis_failures() as exc:
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
