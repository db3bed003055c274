"""What a rule's condition reads now: one ``Reading`` per subject (a budget, a model, the
workspace), each with its value, its threshold and whether it is past it.

Figures come from the store (stored usage events, budgets, models), the budget ledgers
admission keeps (``Limiter.standing``) and this process's circuit breakers (shared through
Redis when it is configured): never from the router's hot path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.limits import Limiter
from relaygate.limits.loading import budget_rule
from relaygate.limits.rules import DEFAULT_PERIOD, period_start
from relaygate.store import alerts as store
from relaygate.store import limits as budgets
from relaygate.store import repository
from relaygate.store.alerts import StoredRule
from relaygate.store.records import Model, utcnow

from .kinds import threshold_of

RECENT = timedelta(hours=24)  # the calls a model_failing rule looks back on
BreakerOf = Callable[[str], Mapping[str, Any]]  # a stored model's id -> its breaker's state
# A workspace and its models -> each model's health state by model id (model health's
# monitor: its periodic checks notice a model nobody calls).
HealthOf = Callable[[str, Sequence[Model]], Awaitable[Mapping[str, str]]]
FAILING_STATES = frozenset({"failing", "breaker_open"})


@dataclass(frozen=True)
class Reading:
    subject: str
    value: float
    threshold: float
    firing: bool


class Conditions:
    def __init__(
        self, engine: AsyncEngine, limits: Limiter, breaker_of: BreakerOf, health_of: HealthOf | None = None
    ) -> None:
        self._engine = engine
        self._limits = limits
        self._breaker_of = breaker_of
        self._health_of = health_of

    async def read(self, rule: StoredRule) -> list[Reading]:
        threshold = threshold_of(rule.kind, rule.config)
        if rule.kind == "budget_threshold":
            return await self._budget(rule, threshold)
        if rule.kind == "model_failing":
            return await self._failing(rule, int(threshold))
        return await self._error_rate(rule, threshold)

    async def _budget(self, rule: StoredRule, threshold: float) -> list[Reading]:
        budget = await budgets.get_budget(self._engine, rule.workspace_id, rule.config["budget_id"])
        if budget is None or not budget.amount_nano:
            return []  # deleted, or no spend limit: nothing to watch (an open episode resolves)
        standing = await self._limits.standing(budget_rule(budget))
        if standing is not None:
            spent = standing.spent_nano
        else:
            since = period_start(budget.period or DEFAULT_PERIOD, utcnow())
            spent = await budgets.spent_nano(
                self._engine, budget.workspace_id, budget.scope, budget.subject_id, since
            )
        percent = round(spent * 100 / budget.amount_nano, 3)
        return [Reading(budget.id, percent, threshold, percent >= threshold)]

    async def _failing(self, rule: StoredRule, failures: int) -> list[Reading]:
        readings = []
        watched = [
            model
            for model in await repository.list_models(self._engine, rule.workspace_id)
            if model.enabled and rule.config.get("model", model.router_id) == model.router_id
        ]
        health = await self._health_of(rule.workspace_id, watched) if self._health_of and watched else {}
        for model in watched:
            breaker = self._breaker_of(model.id)
            statuses = await store.latest_statuses(
                self._engine, rule.workspace_id, model.router_id, failures, utcnow() - RECENT
            )
            failed_in_a_row = next(
                (index for index, status in enumerate(statuses) if 0 < status < 500), len(statuses)
            )
            in_a_row = max(failed_in_a_row, int(breaker.get("consecutive_failures") or 0))
            is_open = breaker.get("state") == "open"
            # Health's verdict spans 5 minutes (and its checks): a call that just succeeded
            # says the model answers now, so only a model whose latest call did not (or that
            # nobody called) is failing by it.
            answered_last = bool(statuses) and 0 < statuses[0] < 500
            unhealthy = health.get(model.id) in FAILING_STATES and not answered_last
            readings.append(
                Reading(model.router_id, in_a_row, failures, is_open or unhealthy or in_a_row >= failures)
            )
        return readings

    async def _error_rate(self, rule: StoredRule, max_percent: float) -> list[Reading]:
        model: str | None = rule.config.get("model")
        since = utcnow() - timedelta(minutes=rule.config["window_minutes"])
        calls, failed = await store.call_counts(self._engine, rule.workspace_id, since, model)
        percent = round(failed * 100 / calls, 3) if calls else 0.0
        enough = calls >= rule.config["min_calls"]
        return [Reading(model or "workspace", percent, max_percent, enough and percent > max_percent)]
