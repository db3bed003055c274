"""The figures /v2/spend adds to its sums: burn rate, a budget's share used and projection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relaygate.control.spend_figures import BudgetFacts, budget_status, burn_per_day, tightest

NANO = 1_000_000_000
NOON = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday


def _facts(spent_usd: float, amount_usd: float = 10, period: str | None = "day") -> BudgetFacts:
    return BudgetFacts("b-1", "api_key", "k-1", int(amount_usd * NANO), period, int(spent_usd * NANO), 0)


def test_burn_is_the_ranges_spend_per_day() -> None:
    assert burn_per_day(6 * NANO, NOON - timedelta(days=3), NOON) == pytest.approx(2 * NANO)
    assert burn_per_day(NANO, NOON - timedelta(hours=12), NOON) == pytest.approx(2 * NANO)
    assert burn_per_day(0, NOON, NOON) == 0  # an empty range divides by one second, not zero


def test_a_budget_is_near_its_limit_from_eighty_percent() -> None:
    assert budget_status(_facts(7.99), None, NOON)["near_limit"] is False
    near = budget_status(_facts(8), None, NOON)
    assert (near["near_limit"], near["used_percent"]) == (True, 80.0)
    assert budget_status(_facts(12), None, NOON)["used_percent"] == 120.0
    assert (
        budget_status(_facts(0.5, amount_usd=0), None, NOON)["near_limit"] is True
    )  # a $0 budget with spend


def test_the_projection_runs_the_burn_rate_to_the_periods_end() -> None:
    day = budget_status(_facts(2), 4 * NANO, NOON)  # half the day left at $4/day: +$2
    assert (day["projected_usd"], day["projected_over"]) == (4.0, False)
    assert (day["period_start"], day["period_end"]) == ("2026-11-18T00:00:00Z", "2026-11-19T00:00:00Z")
    week = budget_status(_facts(2, period="week"), 4 * NANO, NOON)  # Monday to Monday: 4.5 days left
    assert (week["projected_usd"], week["projected_over"]) == (20.0, True)
    total = budget_status(_facts(2, period="total"), 4 * NANO, NOON)
    assert (total["projected_usd"], total["period_end"]) == (None, None)
    assert budget_status(_facts(2, period=None), None, NOON)["period"] == "month"  # the default period


def test_the_tightest_budget_is_the_one_closest_to_its_limit() -> None:
    loose, tight = _facts(1, amount_usd=100), _facts(9, amount_usd=10)
    assert tightest([loose, tight]) is tight
    assert tightest([]) is None
