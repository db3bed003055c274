"""Admitting a call under every limit that applies to it, and settling it afterwards.

``active()`` is one set lookup: a workspace without limits pays nothing more. For the
others, ``admit()`` checks each applicable rule (workspace, api key, identity) and the
most restrictive wins: the first rule without room refuses the call with an
OpenAI-shaped 429 (``refusals.py``). An admitted call gets a ``Ticket`` carrying the
``x-ratelimit-*`` headers its answer should carry (for the most restrictive rule of
each kind). Its tokens (an estimate: ``reservation.token_reservation``) are taken from
the token buckets at once. ``settle()`` runs on every path once the call is over: it
replaces the tokens taken by those used and budget reservations by the real cost.

Admission never queries the store: rules and budget ledgers are loaded and seeded off
the request path (``reload()``, and ``run()`` in the background: ``upkeep.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.cluster.redis_link import redis_failures
from relaygate.limits.buckets import Bucket, Buckets
from relaygate.limits.budgets import Ledger, LocalLedgers, Refusal, Standing, ledger_of
from relaygate.limits.loading import load_rules
from relaygate.limits.refusals import budget_exceeded, rate_limited, standing_headers
from relaygate.limits.reservation import (
    DEFAULT_COMPLETION_RESERVE,
    Admissible,
    reservation_nano,
    token_reservation,
)
from relaygate.limits.rules import Rule, RuleSet
from relaygate.limits.shared_ledgers import SharedLedgers
from relaygate.limits.upkeep import LedgerUpkeep
from relaygate.store.records import utcnow

if TYPE_CHECKING:
    from relaygate.catalog import Catalog, Principal
    from relaygate.cluster.redis_link import RedisLink

log = logging.getLogger("relaygate.limits")


class Outcome(Protocol):
    """What settling reads of a finished call's usage event."""

    @property
    def total_tokens(self) -> int: ...
    @property
    def cost_nano(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Reservation:
    ledger: Ledger
    nano: int
    shared: bool  # made in Redis (else in this process)


@dataclass(slots=True)
class Ticket:
    headers: list[tuple[bytes, bytes]]  # x-ratelimit-* for the admitted call's answer
    token_buckets: list[Bucket] = field(default_factory=list)
    tokens_held: int = 0  # taken from token_buckets at admission, given back at settling
    reservations: list[Reservation] = field(default_factory=list)
    shared: bool = False
    settled: bool = False


class Limiter:
    def __init__(
        self,
        engine: AsyncEngine,
        catalog: Catalog,
        redis: RedisLink,
        *,
        prefix: str,
        sync_interval: float,
        completion_reserve: int = DEFAULT_COMPLETION_RESERVE,
    ) -> None:
        self._engine = engine
        self._catalog = catalog
        self._redis = redis
        self._sync_interval = sync_interval
        self._completion_reserve = completion_reserve
        self._rules = RuleSet()
        self._budgets: list[Rule] = []
        self._version = -1
        self._reloading = asyncio.Lock()
        self._buckets = Buckets(prefix)
        self._local = LocalLedgers()
        self._shared = SharedLedgers(prefix)
        self._upkeep = LedgerUpkeep(engine, self._local, self._shared, redis)

    # -- hot path -------------------------------------------------------------------

    def active(self, workspace_id: str) -> bool:
        return workspace_id in self._rules.workspaces_with_rules

    async def admit(self, principal: Principal, call: Admissible) -> Ticket | None:
        wall = time.time()
        applicable = self._rules.applicable(
            principal.workspace_id, principal.key_id, call.attribution.identity_id
        )
        rules = [rule for rule in applicable if rule.live(wall)]
        if not rules:
            return None
        client = self._redis.client
        requests = [
            (r, self._buckets.get(r.id, "requests", r.requests_per_minute))
            for r in rules
            if r.requests_per_minute is not None
        ]
        tokens = [
            (r, self._buckets.get(r.id, "tokens", r.tokens_per_minute))
            for r in rules
            if r.tokens_per_minute is not None
        ]
        if client is not None:
            client = await self._sync_due(client, [bucket for _, bucket in requests + tokens])
        now = time.monotonic()
        blocked = next(((r, b, "requests") for r, b in requests if b.current(now) < 1), None)
        blocked = blocked or next(((r, b, "tokens") for r, b in tokens if b.current(now) < 1), None)
        if blocked is not None:
            raise rate_limited(blocked, requests, tokens, now)
        shared = client is not None
        held = token_reservation(call, self._completion_reserve) if tokens else 0
        for _, bucket in requests:
            bucket.take(1, now, shared=shared)
        for _, bucket in tokens:
            bucket.take(held, now, shared=shared)
        ticket = Ticket(
            standing_headers(requests, tokens, now), [bucket for _, bucket in tokens], held, shared=shared
        )
        budgets = [rule for rule in rules if rule.amount_nano is not None]
        if budgets:
            try:
                await self._reserve(ticket, budgets, call)
            except BaseException:
                for _, bucket in requests:
                    bucket.take(-1, now, shared=shared)
                for bucket in ticket.token_buckets:
                    bucket.take(-held, now, shared=shared)
                raise
        return ticket

    async def _sync_due(self, client: Any, buckets: list[Bucket]) -> Any:
        try:
            for bucket in buckets:
                await self._buckets.sync_until_known(client, bucket)
        except redis_failures() as exc:
            self._redis.lost(exc)
            return None
        return client

    async def _reserve(self, ticket: Ticket, budgets: list[Rule], call: Admissible) -> None:
        reservation = reservation_nano(call, self._completion_reserve)
        today = utcnow()
        try:
            for rule in budgets:
                ledger = ledger_of(rule, today)
                refusal = await self._reserve_one(ticket, ledger, rule.amount_nano or 0, reservation)
                if refusal is not None:
                    raise budget_exceeded(refusal, today.timestamp())
        except BaseException:
            self._release(ticket.reservations, cost=0)
            ticket.reservations.clear()
            raise

    async def _reserve_one(
        self, ticket: Ticket, ledger: Ledger, amount: int, reservation: int
    ) -> Refusal | None:
        client = self._redis.client if ticket.shared else None
        if client is not None:
            try:
                refusal = await self._shared.reserve(client, ledger, amount, reservation)
            except redis_failures() as exc:
                self._redis.lost(exc)
                ticket.shared = False
            else:
                if refusal is None:
                    ticket.reservations.append(Reservation(ledger, reservation, shared=True))
                return refusal
        refusal = self._local.reserve(ledger, amount, reservation)
        if refusal is None:
            ticket.reservations.append(Reservation(ledger, reservation, shared=False))
        return refusal

    def _release(self, reservations: list[Reservation], cost: int) -> None:
        for reservation in reservations:
            ledgers = self._shared if reservation.shared else self._local
            ledgers.settle(reservation.ledger, reservation.nano, cost)

    def settle(self, ticket: Ticket, event: Outcome) -> None:
        if ticket.settled:
            return
        ticket.settled = True
        now = time.monotonic()
        for bucket in ticket.token_buckets:
            bucket.take(event.total_tokens - ticket.tokens_held, now, shared=ticket.shared)
        self._release(ticket.reservations, cost=event.cost_nano)

    # -- control plane --------------------------------------------------------------

    async def standing(self, rule: Rule) -> Standing | None:
        """Where ``rule``'s budget stands this period, as admission sees it; None when this
        process (or Redis) holds no seeded ledger for it (ask the store)."""
        ledger = ledger_of(rule, utcnow())
        client = self._redis.client
        if client is not None:
            try:
                return await self._shared.standing(client, ledger)
            except redis_failures() as exc:
                self._redis.lost(exc)
        return self._local.standing(ledger)

    # -- background -----------------------------------------------------------------

    async def reload(self) -> None:
        """Load the rules and seed their ledgers (start-up, and after any change to them).

        One reload at a time: the background loop's, begun before a change, must not put
        its older rules back after the reload that the change itself asked for."""
        async with self._reloading:
            version = self._catalog.version
            rules = await load_rules(self._engine)
            self._rules = RuleSet.of(rules)
            self._budgets = [rule for rule in rules if rule.amount_nano is not None]
            self._version = version
            await self._upkeep.prepare(self._budgets, utcnow())

    async def run(self) -> None:
        await asyncio.gather(self._sync_forever(), self._upkeep_forever())

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sync_interval)
            await self.sync()
            self._buckets.forget_idle(time.monotonic())

    async def _upkeep_forever(self) -> None:
        """Rules and ledgers from the store, in a loop of their own: a slow store never
        delays the Redis sync of the buckets."""
        failing = False
        while True:
            await asyncio.sleep(self._sync_interval)
            try:
                if self._catalog.version != self._version:
                    await self.reload()
                else:
                    await self._upkeep.tick(self._budgets)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: keep enforcing what we know
                if not failing:
                    log.warning("limits could not be refreshed from the store: %s", exc)
                failing = True
            else:
                failing = False

    async def sync(self) -> None:
        client = self._redis.client
        if client is None:
            return
        try:
            await self._buckets.sync_dirty(client)
            if self._shared.has_unsettled:
                await self._shared.flush(client)
        except redis_failures() as exc:
            self._redis.lost(exc)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.sync()
