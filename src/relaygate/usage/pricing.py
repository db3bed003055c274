"""Cost of a call from the model's prices, exactly: Decimal in, integer nano-USD out."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

NANO_PER_USD = Decimal(1_000_000_000)
_PER_MILLION = Decimal(1_000_000)


def token_cost_nano(
    prompt_tokens: int, completion_tokens: int, input_cost: Decimal | None, output_cost: Decimal | None
) -> int:
    """Prices are USD per 1M tokens; the result is rounded half-even to whole nano-USD."""
    usd = Decimal(0)
    if input_cost is not None and prompt_tokens:
        usd += input_cost * prompt_tokens / _PER_MILLION
    if output_cost is not None and completion_tokens:
        usd += output_cost * completion_tokens / _PER_MILLION
    return int((usd * NANO_PER_USD).to_integral_value(ROUND_HALF_EVEN))


def nano_to_usd(nano: int) -> Decimal:
    return Decimal(nano) / NANO_PER_USD
