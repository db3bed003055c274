"""A model's health state from what is known of it (pure; the rules are documented here).

The first rule that holds gives the state:

1. ``breaker_open``: this process's circuit breaker for the model is open or half open
   (calls skip the upstream or only a probe goes through; with Redis every process shares it).
2. ``failing``: over the last 5 minutes at least ``MIN_CALLS`` calls and at least
   ``FAILING_RATE`` (50 %) of them failed at the upstream; or the last ``FAILED_CHECKS`` (3)
   health checks all failed.
3. ``degraded``: over the last 5 minutes at least ``DEGRADED_RATE`` (5 %) of the calls failed
   (with fewer than ``MIN_CALLS`` calls, any failure: too few calls to trust a rate); or
   the last health check failed.
4. ``ok``: calls or health checks in the last 24 hours, none of the above.
5. ``unknown``: no call and no health check in the last 24 hours: nothing to judge by.

A failure is a call the upstream answered 5xx other than 501 (or that timed out or could
not connect: relaygate answers those 502/504), the circuit breaker's own rule; 4xx answers
are the caller's problem, and 429 only says the upstream is busy. Cache hits are not calls.
Latency does not change the state (no threshold fits every model); it is shown beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

HealthState = Literal["ok", "degraded", "failing", "breaker_open", "unknown"]
HEALTH_STATES: tuple[HealthState, ...] = ("unknown", "ok", "degraded", "failing", "breaker_open")

MIN_CALLS = 5
FAILING_RATE = 0.5
DEGRADED_RATE = 0.05
FAILED_CHECKS = 3


@dataclass(frozen=True, slots=True)
class HealthFacts:
    breaker: str  # closed | half_open | open
    calls_5m: int
    errors_5m: int
    calls_24h: int
    checks: Sequence[bool]  # the health checks of the last 24 hours, newest first: passed or not


@dataclass(frozen=True, slots=True)
class Verdict:
    state: HealthState
    reasons: tuple[str, ...]


def error_rate(calls: int, errors: int) -> float | None:
    return errors / calls if calls else None


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _failing(facts: HealthFacts) -> list[str]:
    reasons = []
    rate = error_rate(facts.calls_5m, facts.errors_5m)
    if rate is not None and facts.calls_5m >= MIN_CALLS and rate >= FAILING_RATE:
        reasons.append(
            f"{facts.errors_5m} of {facts.calls_5m} calls failed in the last 5 minutes ({_percent(rate)})"
        )
    recent = list(facts.checks[:FAILED_CHECKS])
    if len(recent) == FAILED_CHECKS and not any(recent):
        reasons.append(f"the last {FAILED_CHECKS} health checks failed")
    return reasons


def _degraded(facts: HealthFacts) -> list[str]:
    reasons = []
    rate = error_rate(facts.calls_5m, facts.errors_5m)
    if rate is not None and facts.errors_5m and (facts.calls_5m < MIN_CALLS or rate >= DEGRADED_RATE):
        reasons.append(
            f"{facts.errors_5m} of {facts.calls_5m} calls failed in the last 5 minutes ({_percent(rate)})"
        )
    if facts.checks and not facts.checks[0]:
        reasons.append("the last health check failed")
    return reasons


def judge(facts: HealthFacts) -> Verdict:
    """The state and the reasons for it (none for ok)."""
    if facts.breaker in ("open", "half_open"):
        return Verdict("breaker_open", ("the circuit breaker is open: calls skip this upstream",))
    failing = _failing(facts)
    if failing:
        return Verdict("failing", tuple(failing))
    degraded = _degraded(facts)
    if degraded:
        return Verdict("degraded", tuple(degraded))
    if facts.calls_24h or facts.checks:
        return Verdict("ok", ())
    return Verdict("unknown", ("no calls and no health checks in the last 24 hours",))
