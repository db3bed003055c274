"""Cost arithmetic: exact decimals in, whole nano-USD out, one rounding per event."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from relaygate.catalog import RoutableModel
from relaygate.usage.events import UsageEvent
from relaygate.usage.pricing import (
    cost_usd,
    nano_to_usd,
    price_event,
    reserve_nano,
    to_nano,
    token_cost_nano,
)

from support.models import routable_model


def priced_model(**prices: Decimal | None) -> RoutableModel:
    fields: dict[str, Any] = {"input_cost": None, "output_cost": None, "cost_per_image": None, **prices}
    return routable_model(**fields)


def test_token_prices_are_per_million_tokens_and_exact() -> None:
    # 0.59 USD per 1M input, 0.79 per 1M output: no float on the way.
    assert cost_usd(1234, 567, Decimal("0.59"), Decimal("0.79")) == Decimal("0.00117599")
    assert token_cost_nano(1234, 567, Decimal("0.59"), Decimal("0.79")) == 1_175_990


def test_a_missing_price_or_a_zero_count_costs_nothing() -> None:
    assert cost_usd(1000, 1000, None, None) == 0
    assert cost_usd(0, 0, Decimal("5"), Decimal("15")) == 0
    assert cost_usd(1_000_000, 1_000_000, None, Decimal("2")) == Decimal("2")
    assert cost_usd(0, 0, None, None, images=3, cost_per_image=None) == 0


def test_images_are_priced_per_image_on_top_of_tokens() -> None:
    usd = cost_usd(1_000_000, 0, Decimal("1"), None, images=3, cost_per_image=Decimal("0.04"))
    assert usd == Decimal("1.12")
    assert to_nano(usd) == 1_120_000_000


@pytest.mark.parametrize(
    ("usd", "nano"),
    [
        (Decimal("0.0000000005"), 0),  # exactly half a nano-USD: to the even neighbour, 0
        (Decimal("0.0000000015"), 2),  # ... and here 2
        (Decimal("0.0000000025"), 2),
        (Decimal("0.00000000050001"), 1),  # past the half: up
        (Decimal("0.00000000049999"), 0),
        (Decimal("1.5"), 1_500_000_000),
    ],
)
def test_one_rounding_half_even_to_a_whole_nano_usd(usd: Decimal, nano: int) -> None:
    assert to_nano(usd) == nano


def test_a_million_tiny_calls_sum_to_within_half_a_millidollar() -> None:
    # One token at 0.0004 USD per 1M is 0.4 nano-USD, rounded to 0 each time: the documented bound.
    per_call = token_cost_nano(1, 0, Decimal("0.0004"), None)
    assert per_call == 0
    exact = cost_usd(1, 0, Decimal("0.0004"), None) * 1_000_000
    assert abs(nano_to_usd(per_call * 1_000_000) - exact) <= Decimal("0.0005")


def test_nano_round_trips_to_usd_exactly() -> None:
    assert nano_to_usd(1_175_990) == Decimal("0.00117599")
    assert to_nano(nano_to_usd(123_456_789_012)) == 123_456_789_012


def test_the_reserve_rounds_up_so_a_budget_is_never_under_held() -> None:
    model = priced_model(input_cost=Decimal("0.0004"), output_cost=Decimal("0.6"))
    # 1 prompt token: 0.4 nano-USD, which the event rounds to 0 but the reserve holds as 1.
    assert token_cost_nano(1, 0, model.input_cost, model.output_cost) == 0
    assert reserve_nano(model, 1, 0) == 1
    assert reserve_nano(model, 1000, 500) == 300_400
    assert reserve_nano(model, 0, 0) == 0


def test_the_reserve_counts_images() -> None:
    model = priced_model(cost_per_image=Decimal("0.04"))
    assert reserve_nano(model, 10, 10, images=2) == 80_000_000


def test_an_event_keeps_the_prices_it_was_priced_with() -> None:
    model = priced_model(input_cost=Decimal("2.50"), output_cost=Decimal("10"), cost_per_image=None)
    event = UsageEvent(workspace_id="ws-1", api_key_id=None, endpoint="chat", request_id="req-1")
    event.prompt_tokens, event.completion_tokens = 1000, 200
    price_event(event, model)
    assert event.cost_nano == 4_500_000  # 0.0025 + 0.002 USD
    assert (event.input_price, event.output_price, event.image_price) == ("2.50", "10", None)
