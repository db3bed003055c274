"""Admitting a call under every limit that applies to it, and settling it afterwards.

``active()`` is one set lookup: a workspace without limits pays nothing more. For the
others, ``admit()`` checks each applicable rule (workspace, api key, identity) and the
most restrictive wins: the first rule without room refuses the call with an
OpenAI-shaped 429 and OpenAI's ``x-ratelimit-*`` headers, which admitted calls' answers
carry too (for the most restrictive rule of each kind). ``settle()`` runs on every
path once the call is over: it debits the tokens used and replaces budget
reservations by the real cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.errors import RateLimited
from relaygate.limits import store
from relaygate.limits.buckets import Bucket, Buckets, duration_text
from relaygate.limits.budgets import Ledger, Ledgers, Refusal, ledger_of
from relaygate.limits.rules import Rule, RuleSet
from relaygate.store.records import utcnow
from relaygate.usage.pricing import nano_to_usd, reserve_nano

if TYPE_CHECKING:
    from relaygate.catalog import Catalog, Principal
    from relaygate.cluster.redis_link import RedisLink
    from relaygate.router.request import PreparedCall
    from relaygate.usage.events import UsageEvent

log = logging.getLogger("relaygate.limits")

# Completion tokens reserved for a budget when the request sets no max tokens.
DEFAULT_COMPLETION_RESERVE = 4096
_MAX_TOKEN_FIELDS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


class BudgetExceeded(RateLimited):
    error_type = "insufficient_quota"
    default_code = "insufficient_quota"


@dataclass(slots=True)
class Ticket:
    token_buckets: list[Bucket] = field(default_factory=list)
    reservations: list[tuple[Ledger, int]] = field(default_factory=list)
    shared: bool = False
    settled: bool = False


def _completion_bound(body: dict[str, Any], endpoint: str) -> int:
    if endpoint == "embeddings":
        return 0
    for name in _MAX_TOKEN_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return DEFAULT_COMPLETION_RESERVE


def reservation_for(call: PreparedCall, endpoint: str) -> int:
    """The most the call can cost: every body byte as a prompt token (a token is at least
    one byte), its max tokens as completion, ``n`` images for image endpoints."""
    body = orjson.loads(call.payload)
    images = int(body.get("n") or 1) if endpoint.startswith("images") else 0
    return reserve_nano(call.model, len(call.payload), _completion_bound(body, endpoint), images)


def _scope_label(rule: Rule) -> str:
    if rule.scope == "api_key":
        return "this API key"
    if rule.scope == "identity":
        return f"identity '{rule.subject_id}'"
    return "this workspace"


class Limiter:
    def __init__(
        self, engine: AsyncEngine, catalog: Catalog, redis: RedisLink, *, prefix: str, sync_interval: float
    ) -> None:
        self._engine = engine
        self._catalog = catalog
        self._redis = redis
        self._sync_interval = sync_interval
        self._rules = RuleSet()
        self._version = -1
        self._buckets = Buckets(prefix)
        self._ledgers = Ledgers(engine, prefix)

    # -- hot path -------------------------------------------------------------------

    def active(self, workspace_id: str) -> bool:
        return workspace_id in self._rules.workspaces_with_rules

    async def admit(self, principal: Principal, call: PreparedCall, event: UsageEvent) -> Ticket | None:
        event.router_model, event.upstream_model = call.model.router_id, call.model.model_id
        wall = time.time()
        rules = [
            rule
            for rule in self._rules.applicable(principal.workspace_id, principal.key_id, event.identity_id)
            if rule.live(wall)
        ]
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
        self._check_rates(requests, tokens, now)
        for _, bucket in requests:
            bucket.take(1, now, shared=client is not None)
        # As OpenAI does, every admitted answer says where the caller stands.
        call.response_headers.extend(_header_pairs(requests, tokens, now))
        ticket = Ticket([bucket for _, bucket in tokens], shared=client is not None)
        budgets = [rule for rule in rules if rule.amount_nano is not None]
        if budgets:
            try:
                await self._reserve(ticket, budgets, call, event.endpoint)
            except BaseException:
                for _, bucket in requests:
                    bucket.take(-1, now, shared=client is not None)
                raise
        return ticket

    async def _sync_due(self, client: Any, buckets: list[Bucket]) -> Any:
        try:
            for bucket in buckets:
                await self._buckets.sync_until_known(client, bucket)
        except (RedisError, OSError) as exc:
            self._redis.lost(exc)
            return None
        return client

    def _check_rates(
        self, requests: list[tuple[Rule, Bucket]], tokens: list[tuple[Rule, Bucket]], now: float
    ) -> None:
        blocked = next(((r, b, "requests") for r, b in requests if b.current(now) < 1), None)
        if blocked is None:
            blocked = next(((r, b, "tokens") for r, b in tokens if b.current(now) < 1), None)
        if blocked is None:
            return
        rule, bucket, kind = blocked
        headers = {"retry-after": str(max(1, math.ceil(bucket.retry_after(now))))}
        headers.update(_trio("requests", requests, now))
        headers.update(_trio("tokens", tokens, now))
        limit = rule.requests_per_minute if kind == "requests" else rule.tokens_per_minute
        raise RateLimited(
            f"Rate limit reached for {_scope_label(rule)}: {limit} {kind} per minute. "
            f"Try again in {duration_text(bucket.retry_after(now))}.",
            code="rate_limit_exceeded",
            headers=headers,
        )

    async def _reserve(self, ticket: Ticket, budgets: list[Rule], call: PreparedCall, endpoint: str) -> None:
        reservation = reservation_for(call, endpoint)
        today = utcnow()
        try:
            for rule in budgets:
                if rule.amount_nano is None:  # not a budget: nothing to reserve against
                    continue
                ledger = ledger_of(rule, today)
                refusal = await self._reserve_one(ticket, ledger, rule.amount_nano, reservation)
                if refusal is not None:
                    raise _budget_error(refusal, today.timestamp())
                ticket.reservations.append((ledger, reservation))
        except BaseException:
            for ledger, reserved in ticket.reservations:
                self._ledgers.settle(ledger, -reserved, shared=ticket.shared)
            ticket.reservations.clear()
            raise

    async def _reserve_one(
        self, ticket: Ticket, ledger: Ledger, amount: int, reservation: int
    ) -> Refusal | None:
        client = self._redis.client if ticket.shared else None
        if client is not None:
            try:
                return await self._ledgers.reserve_shared(client, ledger, amount, reservation)
            except (RedisError, OSError) as exc:
                self._redis.lost(exc)
                ticket.shared = False
        return await self._ledgers.reserve_local(ledger, amount, reservation)

    def settle(self, ticket: Ticket, event: UsageEvent) -> None:
        if ticket.settled:
            return
        ticket.settled = True
        now = time.monotonic()
        for bucket in ticket.token_buckets:
            bucket.take(event.total_tokens, now, shared=ticket.shared)
        for ledger, reserved in ticket.reservations:
            self._ledgers.settle(ledger, event.cost_nano - reserved, shared=ticket.shared)

    # -- background -----------------------------------------------------------------

    async def reload(self) -> None:
        version = self._catalog.version
        self._rules = RuleSet.of(await store.load_rules(self._engine))
        self._version = version

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._sync_interval)
            try:
                if self._catalog.version != self._version:
                    await self.reload()
                await self.sync()
                self._buckets.forget_idle(time.monotonic())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: keep enforcing the rules we have
                log.warning("limits could not be refreshed: %s", exc)

    async def sync(self) -> None:
        client = self._redis.client
        if client is None:
            return
        try:
            await self._buckets.sync_dirty(client)
            if self._ledgers.has_unsettled:
                await self._ledgers.flush(client)
        except (RedisError, OSError) as exc:
            self._redis.lost(exc)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.sync()


def _trio(kind: str, pairs: list[tuple[Rule, Bucket]], now: float) -> dict[str, str]:
    """OpenAI's x-ratelimit-{limit,remaining,reset}-{kind} for the most restrictive rule."""
    if not pairs:
        return {}
    _, bucket = min(pairs, key=lambda pair: pair[1].current(now))
    return {
        f"x-ratelimit-limit-{kind}": str(bucket.limit),
        f"x-ratelimit-remaining-{kind}": str(max(0, math.floor(bucket.current(now)))),
        f"x-ratelimit-reset-{kind}": duration_text(bucket.reset_after(now)),
    }


def _header_pairs(
    requests: list[tuple[Rule, Bucket]], tokens: list[tuple[Rule, Bucket]], now: float
) -> list[tuple[bytes, bytes]]:
    trios = {**_trio("requests", requests, now), **_trio("tokens", tokens, now)}
    return [(name.encode(), value.encode()) for name, value in trios.items()]


def _budget_error(refusal: Refusal, now: float) -> BudgetExceeded:
    ledger = refusal.ledger
    amount = ledger.rule.amount_nano or 0
    period = "total" if ledger.period == "total" else f"{ledger.period}ly".replace("dayly", "daily")
    headers: dict[str, str] = {}
    ends = [moment for moment in (ledger.end and ledger.end.timestamp(), ledger.rule.expires_at) if moment]
    if ends:
        headers["retry-after"] = str(max(1, math.ceil(min(ends) - now)))
    return BudgetExceeded(
        f"Budget exceeded for {_scope_label(ledger.rule)}: "
        f"${nano_to_usd(refusal.spent_nano):.6f} spent of its {period} budget of "
        f"${nano_to_usd(amount):.6f}; this call could cost up to "
        f"${nano_to_usd(refusal.reservation_nano):.6f}.",
        headers=headers,
    )
