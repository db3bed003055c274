"""One Redis pub/sub subscription kept open for as long as Redis is reachable.

``follow(link, subscriber)`` is a background task: it subscribes to the subscriber's
channels whenever the link is up, hands it every message, pings an idle subscription so
that a silently dead connection is noticed, and tells the subscriber when it is live
and when it is not (it then relies on its own fallback until the next subscription).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Protocol

from relaygate.cluster.redis_link import RedisLink, redis_failures

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger("relaygate.redis")

# Read timeout for one wait on the subscription; an idle subscription is pinged after
# this many empty waits.
_WAIT_S = 1.0
_PING_EVERY = 5
# How often to look whether the link is back (its own watcher pings Redis).
_RECHECK_S = 0.2


class Subscriber(Protocol):
    def channels(self) -> list[str]: ...

    async def subscribed(self, client: Redis) -> None:
        """Live from now on: catch up with whatever was published while not listening."""

    async def message(self, client: Redis, channel: str, data: str) -> None: ...

    def unsubscribed(self) -> None:
        """Not live any more (Redis lost, or the task stopping)."""


async def follow(link: RedisLink, subscriber: Subscriber) -> None:
    if not link.configured:
        return
    while True:
        client = link.client
        if client is None:
            await asyncio.sleep(_RECHECK_S)
            continue
        try:
            await _listen(client, subscriber)
        except redis_failures() as exc:
            link.lost(exc)
        except Exception as exc:  # keep the task alive; the subscriber's fallback covers the gap
            log.error("Redis subscription to %s failed: %s", ", ".join(subscriber.channels()), exc)
            await asyncio.sleep(1.0)
        finally:
            subscriber.unsubscribed()


async def _listen(client: Redis, subscriber: Subscriber) -> None:
    pubsub: PubSub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(*subscriber.channels())
        await subscriber.subscribed(client)
        idle = 0
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_WAIT_S)
            if message is None:
                idle += 1
                if idle >= _PING_EVERY:
                    await pubsub.ping()
                    idle = 0
                continue
            idle = 0
            await subscriber.message(client, as_text(message.get("channel")), as_text(message.get("data")))
    finally:
        await pubsub.aclose()


def as_text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
