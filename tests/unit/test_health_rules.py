"""The rules that give a model's health state (control/health_rules.py), rule by rule."""

from __future__ import annotations

import pytest

from relaygate.control.health_rules import HealthFacts, error_rate, judge


def facts(
    breaker: str = "closed", calls: int = 0, errors: int = 0, day: int = 0, checks: tuple[bool, ...] = ()
) -> HealthFacts:
    return HealthFacts(
        breaker=breaker, calls_5m=calls, errors_5m=errors, calls_24h=max(day, calls), checks=checks
    )


@pytest.mark.parametrize(
    ("given", "state"),
    [
        (facts(), "unknown"),
        (facts(day=3), "ok"),  # calls earlier today, none failed lately
        (facts(checks=(True,)), "ok"),  # no calls, a passed check
        (facts(calls=100, errors=4), "ok"),  # 4 %: under 5 %
        (facts(calls=100, errors=5), "degraded"),  # 5 %
        (facts(calls=2, errors=1), "degraded"),  # too few calls for a rate: any failure
        (facts(calls=4, errors=4), "degraded"),  # all failed, but under MIN_CALLS
        (facts(calls=5, errors=3), "failing"),  # 60 % of at least 5
        (facts(calls=10, errors=5), "failing"),  # 50 %
        (facts(calls=10, errors=4), "degraded"),
        (facts(day=5, checks=(False, True)), "degraded"),  # the last check failed
        (facts(day=5, checks=(True, False, False)), "ok"),  # the last passed
        (facts(checks=(False, False, False, True)), "failing"),  # the last 3 failed
        (facts(checks=(False, False)), "degraded"),  # only 2 checks so far
        (facts("open", calls=10, errors=0), "breaker_open"),  # the breaker first
        (facts("half_open"), "breaker_open"),
    ],
)
def test_the_first_rule_that_holds_gives_the_state(given: HealthFacts, state: str) -> None:
    assert judge(given).state == state


def test_reasons_say_why() -> None:
    assert judge(facts(calls=10, errors=6, checks=(False, False, False))).reasons == (
        "6 of 10 calls failed in the last 5 minutes (60%)",
        "the last 3 health checks failed",
    )
    assert judge(facts(calls=20, errors=2, checks=(False,))).reasons == (
        "2 of 20 calls failed in the last 5 minutes (10%)",
        "the last health check failed",
    )
    assert judge(facts(day=1)).reasons == ()
    assert judge(facts()).reasons == ("no calls and no health checks in the last 24 hours",)


def test_error_rate_without_calls_is_none() -> None:
    assert error_rate(0, 0) is None
    assert error_rate(4, 1) == 0.25
