"""Cost of a call from the model's prices, exactly: Decimal in, integer nano-USD out.

Each event keeps the prices it was priced with (prices change; old events must not).
One rounding per event, half-even to a whole nano-USD: over a million events the sum
is off by at most half a millidollar, and sums of stored costs are exact integers.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relaygate.catalog import RoutableModel
    from relaygate.usage.events import UsageEvent

NANO_PER_USD = Decimal(1_000_000_000)
_PER_MILLION = Decimal(1_000_000)


def cost_usd(
    prompt_tokens: int,
    completion_tokens: int,
    input_cost: Decimal | None,
    output_cost: Decimal | None,
    images: int = 0,
    cost_per_image: Decimal | None = None,
) -> Decimal:
    """Exact USD: token prices are per 1M tokens, image prices per image."""
    usd = Decimal(0)
    if input_cost is not None and prompt_tokens:
        usd += input_cost * prompt_tokens / _PER_MILLION
    if output_cost is not None and completion_tokens:
        usd += output_cost * completion_tokens / _PER_MILLION
    if cost_per_image is not None and images:
        usd += cost_per_image * images
    return usd


def to_nano(usd: Decimal) -> int:
    return int((usd * NANO_PER_USD).to_integral_value(ROUND_HALF_EVEN))


def token_cost_nano(
    prompt_tokens: int, completion_tokens: int, input_cost: Decimal | None, output_cost: Decimal | None
) -> int:
    return to_nano(cost_usd(prompt_tokens, completion_tokens, input_cost, output_cost))


def nano_to_usd(nano: int) -> Decimal:
    return Decimal(nano) / NANO_PER_USD


def price_event(event: UsageEvent, model: RoutableModel) -> None:
    """Set the event's cost from its counts and record the prices used."""
    event.cost_nano = to_nano(
        cost_usd(
            event.prompt_tokens,
            event.completion_tokens,
            model.input_cost,
            model.output_cost,
            event.images,
            model.cost_per_image,
        )
    )
    event.input_price = _text(model.input_cost)
    event.output_price = _text(model.output_cost)
    event.image_price = _text(model.cost_per_image)


def reserve_nano(model: RoutableModel, prompt_tokens: int, completion_tokens: int, images: int = 0) -> int:
    """The most a call can cost given upper bounds of its counts, rounded up (budgets)."""
    usd = cost_usd(
        prompt_tokens, completion_tokens, model.input_cost, model.output_cost, images, model.cost_per_image
    )
    return int((usd * NANO_PER_USD).to_integral_value(ROUND_CEILING))


def _text(price: Decimal | None) -> str | None:
    return None if price is None else str(price)
