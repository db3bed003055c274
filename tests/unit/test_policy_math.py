"""The pure parts of the attempt loop: weighted picks, backoff, Retry-After."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from relaygate.router.policy import backoff_delay, retry_after
from relaygate.router.routing import pick_weighted


def test_pick_weighted_follows_the_weights() -> None:
    rng = random.Random(7)
    picks = Counter(pick_weighted([3, 1, 0], rng.random()) for _ in range(20_000))
    assert picks[2] == 0
    assert 0.73 < picks[0] / 20_000 < 0.77


@pytest.mark.parametrize(("draw", "index"), [(0.0, 0), (0.49, 0), (0.5, 1), (0.999999, 1)])
def test_pick_weighted_edges(draw: float, index: int) -> None:
    assert pick_weighted([1.0, 1.0], draw) == index


def test_pick_weighted_never_returns_a_zero_weight_at_the_top_edge() -> None:
    assert pick_weighted([1.0, 0.0], 0.9999999999999999) == 0


@pytest.mark.parametrize("retry", range(5))
def test_backoff_doubles_within_25_percent(retry: int) -> None:
    nominal = 2**retry
    assert backoff_delay(retry, 1.0, 30.0, 0.0) == pytest.approx(0.75 * nominal)
    assert backoff_delay(retry, 1.0, 30.0, 1.0) == pytest.approx(1.25 * nominal)
    assert backoff_delay(retry, 1.0, 30.0, 0.5) == pytest.approx(nominal)


def test_backoff_is_capped() -> None:
    assert backoff_delay(10, 1.0, 30.0, 1.0) == 30.0


def test_retry_after_in_seconds_milliseconds_and_dates() -> None:
    assert retry_after([("Retry-After", "3")]) == 3.0
    assert retry_after([("retry-after-ms", "250"), ("retry-after", "9")]) == 0.25
    when = format_datetime(datetime.fromtimestamp(1_000_010, UTC), usegmt=True)
    assert retry_after([("Retry-After", when)], now=1_000_000) == pytest.approx(10.0)
    assert retry_after([("Retry-After", when)], now=2_000_000) == 0.0


@pytest.mark.parametrize("value", ["soon", "-1", "nan", ""])
def test_retry_after_that_makes_no_sense_is_ignored(value: str) -> None:
    assert retry_after([("Retry-After", value), ("content-type", "application/json")]) is None
