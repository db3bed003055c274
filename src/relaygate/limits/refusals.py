"""What a limited caller is told: OpenAI's 429s and ``x-ratelimit-*`` headers.

A rate limit answers ``rate_limit_error``/``rate_limit_exceeded`` with ``retry-after``; a
budget answers ``insufficient_quota`` (as OpenAI does for quota) with ``retry-after`` at
the next period (or the budget's expiry), and says what was spent and what calls in
flight reserved, the two figures ``/v2/budgets`` shows.
"""

from __future__ import annotations

import math

from relaygate.errors import RateLimited
from relaygate.limits.buckets import Bucket, duration_text
from relaygate.limits.budgets import Refusal
from relaygate.limits.rules import Rule
from relaygate.usage.pricing import nano_to_usd

RuleBuckets = list[tuple[Rule, Bucket]]


class BudgetExceeded(RateLimited):
    error_type = "insufficient_quota"
    default_code = "insufficient_quota"


def scope_label(rule: Rule) -> str:
    if rule.scope == "api_key":
        return "this API key"
    if rule.scope == "identity":
        return f"identity '{rule.subject_id}'"
    return "this workspace"


def _trio(kind: str, pairs: RuleBuckets, now: float) -> dict[str, str]:
    """OpenAI's x-ratelimit-{limit,remaining,reset}-{kind} for the most restrictive rule."""
    if not pairs:
        return {}
    _, bucket = min(pairs, key=lambda pair: pair[1].current(now))
    return {
        f"x-ratelimit-limit-{kind}": str(bucket.limit),
        f"x-ratelimit-remaining-{kind}": str(max(0, math.floor(bucket.current(now)))),
        f"x-ratelimit-reset-{kind}": duration_text(bucket.reset_after(now)),
    }


def standing_headers(requests: RuleBuckets, tokens: RuleBuckets, now: float) -> list[tuple[bytes, bytes]]:
    """Where the caller stands, for an admitted call's answer (as OpenAI's answers say)."""
    trios = {**_trio("requests", requests, now), **_trio("tokens", tokens, now)}
    return [(name.encode(), value.encode()) for name, value in trios.items()]


def rate_limited(
    blocked: tuple[Rule, Bucket, str], requests: RuleBuckets, tokens: RuleBuckets, now: float
) -> RateLimited:
    rule, bucket, kind = blocked
    headers = {"retry-after": str(max(1, math.ceil(bucket.retry_after(now))))}
    headers.update(_trio("requests", requests, now))
    headers.update(_trio("tokens", tokens, now))
    limit = rule.requests_per_minute if kind == "requests" else rule.tokens_per_minute
    return RateLimited(
        f"Rate limit reached for {scope_label(rule)}: {limit} {kind} per minute. "
        f"Try again in {duration_text(bucket.retry_after(now))}.",
        code="rate_limit_exceeded",
        headers=headers,
    )


def _usd(nano: int) -> str:
    return f"${nano_to_usd(nano):.6f}"


def budget_exceeded(refusal: Refusal, now: float) -> BudgetExceeded:
    ledger, standing = refusal.ledger, refusal.standing
    period = {"day": "daily", "week": "weekly", "month": "monthly"}.get(ledger.period, ledger.period)
    headers: dict[str, str] = {}
    ends = [moment for moment in (ledger.end and ledger.end.timestamp(), ledger.rule.expires_at) if moment]
    if ends:
        headers["retry-after"] = str(max(1, math.ceil(min(ends) - now)))
    return BudgetExceeded(
        f"Budget exceeded for {scope_label(ledger.rule)}: {_usd(standing.spent_nano)} spent and "
        f"{_usd(standing.reserved_nano)} reserved by calls in flight, of its {period} budget of "
        f"{_usd(ledger.rule.amount_nano or 0)}; this call could cost up to {_usd(refusal.reservation_nano)}.",
        headers=headers,
    )
