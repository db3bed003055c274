"""The figures /v2/spend adds to the sums (pure): burn rate, where a budget stands, its projection.

- **burn rate**: what a row cost over the range, per day of the range;
- **used**: what the budget's scope spent this period, as a share of the budget (``near_limit``
  from 80 %: ``NEAR_LIMIT``);
- **projected**: this period's spend by its end if the burn rate holds (a "total" budget has
  no end, so no projection).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relaygate.limits.rules import DEFAULT_PERIOD, period_end, period_start
from relaygate.store.usage_reports import iso
from relaygate.usage.pricing import nano_to_usd

NEAR_LIMIT = 0.8
DAY_S = 86_400.0


def usd(nano: int | float) -> float:
    return float(nano_to_usd(round(nano)))


def burn_per_day(cost_nano: int, start: datetime, end: datetime) -> float:
    """Nano-USD per day over ``start``..``end``."""
    days = max((end - start).total_seconds(), 1.0) / DAY_S
    return cost_nano / days


@dataclass(frozen=True, slots=True)
class BudgetFacts:
    """A spend budget as /v2/spend weighs it."""

    id: str
    scope: str
    subject_id: str | None
    amount_nano: int
    period: str | None
    spent_nano: int  # settled spend this period (as admission sees it)
    reserved_nano: int  # reserved by calls in flight


def used_share(facts: BudgetFacts) -> float:
    if facts.amount_nano <= 0:
        return 1.0 if facts.spent_nano > 0 else 0.0
    return facts.spent_nano / facts.amount_nano


def budget_status(facts: BudgetFacts, burn_nano_per_day: float | None, now: datetime) -> dict[str, object]:
    """The budget's ``spend`` object: amount, period, spent, % used, near its limit, projection."""
    period = facts.period or DEFAULT_PERIOD
    start = period_start(period, now)
    end = period_end(period, start)
    share = used_share(facts)
    projected = None
    if end is not None and burn_nano_per_day is not None:
        projected = facts.spent_nano + burn_nano_per_day * max((end - now).total_seconds(), 0.0) / DAY_S
    return {
        "id": facts.id,
        "scope": facts.scope,
        "subject_id": facts.subject_id,
        "amount_usd": usd(facts.amount_nano),
        "period": period,
        "period_start": iso(start),
        "period_end": iso(end) if end is not None else None,
        "spent_usd": usd(facts.spent_nano),
        "reserved_usd": usd(facts.reserved_nano),
        "used_percent": round(share * 100, 1),
        "near_limit": share >= NEAR_LIMIT,
        "projected_usd": usd(projected) if projected is not None else None,
        "projected_over": projected is not None and projected > facts.amount_nano,
    }


def tightest(budgets: list[BudgetFacts]) -> BudgetFacts | None:
    """Of a scope's budgets, the one closest to its limit."""
    return max(budgets, key=used_share, default=None)
