"""The per-minute tallies model health is counted in (control/health_tally.py): what counts
as a call, a failure and a latency, minutes taken once changed, percentiles by bucket."""

from __future__ import annotations

from relaygate.control.health_tally import LATENCY_BOUNDS, HealthTally, percentile
from relaygate.usage.events import UsageEvent

MINUTE_US = 60_000_000


def event(
    status: int, latency_ms: float, at_us: int, model: str | None = "p/m", **fields: object
) -> UsageEvent:
    made = UsageEvent("ws", None, "chat", "req", status=status)
    made.router_model = model
    made.latency_ms = latency_ms
    made.created_us = at_us
    made.cache_hit = bool(fields.get("cache_hit", False))
    made.error_code = fields.get("code")  # type: ignore[assignment]
    return made


def test_calls_failures_and_latency_per_model_and_minute() -> None:
    tally = HealthTally()
    start = 1_000 * MINUTE_US
    for observed in (
        event(200, 12.0, start + 1),
        event(200, 40.0, start + 2),
        event(502, 3.0, start + 3, code="upstream_error"),
        event(501, 1.0, start + 4),  # not the upstream's ill health
        event(400, 1.0, start + 5),  # the caller's mistake: a call, not a failure, no latency
        event(200, 1.0, start + 6, cache_hit=True),  # not a call
        event(200, 1.0, start + 7, model=None),  # no model (refused before one was known)
        event(503, 1.0, start + MINUTE_US, code="circuit_open"),  # the next minute
    ):
        tally.observe(observed)
    taken = dict(tally.take(start + MINUTE_US))
    first, second = taken[("ws", "p/m", 1000)], taken[("ws", "p/m", 1001)]
    assert (first.calls, first.errors, sum(first.latency)) == (5, 1, 2)
    assert (first.last_success_us, first.last_error_us, first.last_error_status) == (
        start + 2,
        start + 3,
        502,
    )
    assert first.last_error_code == "upstream_error"
    assert (second.calls, second.errors, second.last_error_code) == (1, 1, "circuit_open")
    assert tally.take(start + MINUTE_US) == []  # nothing changed since
    tally.observe(event(200, 5.0, start + MINUTE_US + 9))
    again = tally.take(start + 3 * MINUTE_US)
    assert [(key, t.calls) for key, t in again] == [(("ws", "p/m", 1001), 2)]  # the minute's whole tally
    tally.observe(event(200, 5.0, start + 10))  # a late event adds to its minute's tally
    assert [(key, t.calls) for key, t in tally.take(start + 3 * MINUTE_US)] == [(("ws", "p/m", 1000), 6)]
    tally.take(start + 20 * MINUTE_US)  # minutes over for long are forgotten
    tally.observe(event(200, 5.0, start + 11))
    assert [t.calls for _, t in tally.take(start + 20 * MINUTE_US)] == [1]


def test_percentiles_are_bucket_bounds() -> None:
    histogram = [0] * (len(LATENCY_BOUNDS) + 1)
    assert percentile(histogram, 0.5) is None
    histogram[10] = 9  # up to LATENCY_BOUNDS[10] ms
    histogram[20] = 1
    assert percentile(histogram, 0.5) == LATENCY_BOUNDS[10]
    assert percentile(histogram, 0.95) == LATENCY_BOUNDS[20]
    histogram[-1] = 100  # beyond the last bound
    assert percentile(histogram, 0.99) == LATENCY_BOUNDS[-1]
    assert LATENCY_BOUNDS[0] == 1.0
    assert LATENCY_BOUNDS[-1] > 600_000  # ten minutes
