"""Circuit breakers shared between processes through Redis.

Each process decides on its own breakers (no Redis call on the way of a request); what
is shared is the evidence. When a breaker opens here, the upstream's id and cool-down go
into the hash ``<prefix>breakers:open`` (model id -> "until" time) and out on the
``<prefix>breakers`` channel; every other process opens its breaker for the rest of
that cool-down at once, instead of spending ``failures`` timeouts of its own to learn
the same. A closing (a successful probe) is announced the same way. A process that
(re)subscribes reads the hash, so it also learns of breakers opened while it was away.

After the cool-down each process lets its own probe through, so N processes send at
most N probes to a recovering upstream. Without Redis, or while it is down, breakers
are per process, as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from relaygate.catalog import RoutableModel
from relaygate.cluster.redis_link import RedisLink, redis_failures
from relaygate.cluster.redis_subscription import as_text, follow
from relaygate.router.breaker import Breakers

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("relaygate.router")

CHANNEL = "breakers"  # after the RELAYGATE_REDIS_PREFIX namespace


class BreakerSync:
    def __init__(self, breakers: Breakers, link: RedisLink, prefix: str) -> None:
        self._breakers = breakers
        self._link = link
        self._channel = prefix + CHANNEL
        self._open = prefix + CHANNEL + ":open"
        self._origin = secrets.token_hex(8)  # our own announcements come back to us: skip them
        self._pending: set[asyncio.Task[None]] = set()
        self.received = 0
        if link.configured:
            breakers.on_change = self._changed

    def _changed(self, model: RoutableModel, open_for: float | None) -> None:
        client = self._link.client
        if client is None:
            return
        state = {
            "origin": self._origin,
            "model_id": model.id,
            "workspace_id": model.workspace_id,
            "router_id": model.router_id,
            "until": None if open_for is None else time.time() + open_for,
        }
        task = asyncio.get_running_loop().create_task(self._announce(client, state))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _announce(self, client: Redis, state: dict[str, Any]) -> None:
        message = json.dumps(state)
        try:
            if state["until"] is None:
                await client.hdel(self._open, state["model_id"])
            else:
                await client.hset(self._open, state["model_id"], message)
            await client.publish(self._channel, message)
        except redis_failures() as exc:
            self._link.lost(exc)

    async def run(self) -> None:
        """Background task: follow the other processes' openings and closings."""
        await follow(self._link, self)

    # -- Subscriber ------------------------------------------------------------------

    def channels(self) -> list[str]:
        return [self._channel]

    async def subscribed(self, client: Redis) -> None:
        stored = await client.hgetall(self._open)
        expired = [model_id for model_id, value in stored.items() if not self._apply(as_text(value))]
        if expired:
            await client.hdel(self._open, *expired)

    def unsubscribed(self) -> None:
        return None

    async def message(self, client: Redis, channel: str, data: str) -> None:
        self.received += 1
        self._apply(data)

    def _apply(self, data: str) -> bool:
        """Take over one announced state; False when it has expired (or cannot be read)."""
        try:
            state = json.loads(data)
            model_id, workspace_id, router_id = state["model_id"], state["workspace_id"], state["router_id"]
            until = state["until"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored an unreadable breaker announcement")
            return False
        if state.get("origin") == self._origin:
            return True
        if until is None:
            self._breakers.apply_remote(model_id, workspace_id, router_id, None)
            return True
        left = float(until) - time.time()
        if left <= 0:
            return False
        self._breakers.apply_remote(model_id, workspace_id, router_id, left)
        return True
