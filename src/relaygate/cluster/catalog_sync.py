"""Catalog invalidation across processes through Redis pub/sub.

Every write to keys, models or workspaces bumps ``catalog_state.version`` in the store.
The process that wrote it refreshes its own catalog at once and publishes the new
version on the ``<RELAYGATE_REDIS_PREFIX>catalog`` channel; every other process (other
workers, other hosts) is subscribed, refreshes as soon as the message arrives and
acknowledges on the writer's own reply channel. The writer waits for those
acknowledgements (at most ``ACK_WAIT_S``) before its API call answers, so a client that
creates a model or key and uses it at once, through any process behind the same load
balancer, finds it there.

Pub/sub delivers at most once, so it only speeds things up: correctness rests on the
version in the store. While the subscription is live the catalog still polls, at the
relaxed safety interval; when Redis is down (or not configured) the catalog polls at
``RELAYGATE_CATALOG_POLL_INTERVAL`` again, and after a reconnect it refreshes once to
catch up with whatever was published while it was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relaygate.catalog import Catalog
from relaygate.cluster.redis_link import RedisLink, open_client, redis_failures
from relaygate.cluster.redis_subscription import follow

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("relaygate.catalog")

CHANNEL = "catalog"  # after the RELAYGATE_REDIS_PREFIX namespace
# How long a write waits for the other processes to confirm they have its version.
ACK_WAIT_S = 1.0


@dataclass
class _Waiter:
    """A write of this process waiting for ``needed`` processes to reach ``version``."""

    version: int
    needed: int | None = None
    acks: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def count(self, version: int) -> None:
        if version >= self.version:
            self.acks += 1
        self.check()

    def check(self) -> None:
        if self.needed is not None and self.acks >= self.needed:
            self.done.set()


class CatalogSync:
    def __init__(self, catalog: Catalog, link: RedisLink, prefix: str) -> None:
        self._catalog = catalog
        self._link = link
        self._channel = prefix + CHANNEL
        self._reply_channel = f"{self._channel}:ack:{secrets.token_hex(8)}"
        self._waiters: list[_Waiter] = []
        self.received = 0
        self.published = 0
        catalog.on_local_change = self.announce

    @property
    def live(self) -> bool:
        return self._catalog.push_live

    async def announce(self, version: int) -> None:
        """After a local write: tell the other processes, and wait (bounded) until they have it."""
        client = self._link.client
        if client is None:
            return
        waiter = _Waiter(version) if self.live else None
        message = f"{version} {self._reply_channel}" if waiter else str(version)
        if waiter is not None:
            self._waiters.append(waiter)
        try:
            receivers = await client.publish(self._channel, message)
            self.published += 1
            if waiter is not None:
                waiter.needed = int(receivers)
                waiter.check()  # acknowledgements may have arrived already
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.done.wait(), ACK_WAIT_S)
        except redis_failures() as exc:
            self._link.lost(exc)
        finally:
            if waiter is not None:
                self._waiters.remove(waiter)

    async def run(self) -> None:
        """Background task: keep one subscription open while Redis is reachable."""
        await follow(self._link, self)

    # -- Subscriber ------------------------------------------------------------------

    def channels(self) -> list[str]:
        return [self._channel, self._reply_channel]

    async def subscribed(self, client: Redis) -> None:
        self._catalog.push_state(True)
        await self._refresh()  # whatever changed while we were not listening

    def unsubscribed(self) -> None:
        self._catalog.push_state(False)

    async def message(self, client: Redis, channel: str, data: str) -> None:
        if channel == self._reply_channel:
            for waiter in self._waiters:
                waiter.count(_version(data))
            return
        self.received += 1
        version, _, reply_to = data.partition(" ")
        if _version(version) > self._catalog.version:
            await self._refresh()
        if reply_to:
            await client.publish(reply_to, str(self._catalog.version))

    async def _refresh(self) -> None:
        try:
            await self._catalog.refresh(announce=False)
        except Exception as exc:  # the store is down: the poller reports it and retries
            log.debug("catalog refresh after a pushed change failed: %s", type(exc).__name__)

    def describe(self) -> dict[str, object]:
        return {"push": "live" if self.live else "polling", "received": self.received}


def _version(data: str) -> int:
    return int(data) if data.isdigit() else -1


async def announce_once(redis_url: str, prefix: str, version: int) -> bool:
    """For the CLI, which writes without a running catalog: publish and disconnect."""
    client = open_client(redis_url)
    try:
        await client.publish(prefix + CHANNEL, str(version))
    except redis_failures():
        return False
    finally:
        await client.aclose()
    return True
