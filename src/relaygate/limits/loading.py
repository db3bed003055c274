"""What the limiter reads from the store, never on the request path: its rules, and what
the scope of each budget ledger spent in the ledger's period."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.limits.budgets import Ledger
from relaygate.limits.rules import Rule
from relaygate.store import limits as limit_store
from relaygate.store.limits import Budget, KeyLimits


def budget_rule(budget: Budget) -> Rule:
    return Rule(
        id=budget.id,
        workspace_id=budget.workspace_id,
        scope=budget.scope,
        subject_id=budget.subject_id,
        requests_per_minute=budget.requests_per_minute,
        tokens_per_minute=budget.tokens_per_minute,
        amount_nano=budget.amount_nano,
        period=budget.period if budget.amount_nano is not None else None,
        expires_at=budget.expires_at.timestamp() if budget.expires_at else None,
    )


def _key_rule(limits: KeyLimits) -> Rule:
    return Rule(
        id=f"key:{limits.key_id}",
        workspace_id=limits.workspace_id,
        scope="api_key",
        subject_id=limits.key_id,
        requests_per_minute=limits.requests_per_minute,
        tokens_per_minute=limits.tokens_per_minute,
    )


async def load_rules(engine: AsyncEngine) -> list[Rule]:
    keys, budgets = await limit_store.load_limits(engine)
    return [_key_rule(limits) for limits in keys] + [budget_rule(budget) for budget in budgets]


async def stored_spend(engine: AsyncEngine, ledgers: Iterable[Ledger]) -> dict[str, int]:
    """Ledger key -> what its scope spent in its period, per the stored usage events: one
    query per workspace, scope and period start, however many budgets share them."""
    groups: dict[tuple[str, str, datetime], list[Ledger]] = {}
    for ledger in ledgers:
        rule = ledger.rule
        groups.setdefault((rule.workspace_id, rule.scope, ledger.start), []).append(ledger)
    spent: dict[str, int] = {}
    for group in groups.values():
        first = group[0]
        subjects = {ledger.rule.subject_id for ledger in group if ledger.rule.subject_id is not None}
        by_subject = await limit_store.spent_by_subject(
            engine, first.rule.workspace_id, first.rule.scope, first.start, subjects
        )
        for ledger in group:  # a workspace budget has no subject: its figure is under None
            spent[ledger.key] = by_subject.get(ledger.rule.subject_id, 0)
    return spent
