"""Costs are exact: 10,000 synthetic events priced, stored and summed match the hand
computation to the cent (Decimal arithmetic, integer nano-USD in the store)."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import RoutableModel
from relaygate.store import usage_reports
from relaygate.store.records import utcnow
from relaygate.store.usage_writers import batch_writer
from relaygate.usage.events import UsageEvent
from relaygate.usage.pricing import nano_to_usd, price_event, token_cost_nano
from relaygate.usage.recorder import UsageRecorder

from support.models import routable_model
from support.store import with_workspace

PRICES = [Decimal("0.15"), Decimal("2.5"), Decimal("10"), Decimal("0.0375"), Decimal("60"), Decimal("1.1")]


def _model(rng: random.Random) -> RoutableModel:
    return routable_model(
        f"fake/m{rng.randrange(4)}",
        input_cost=rng.choice(PRICES),
        output_cost=rng.choice(PRICES),
        cost_per_image=Decimal("0.04"),
    )


def test_token_cost_is_exact_and_rounds_half_even() -> None:
    assert token_cost_nano(1_000_000, 0, Decimal("2.5"), None) == 2_500_000_000
    assert token_cost_nano(1, 1, Decimal("0.15"), Decimal("0.6")) == 750  # 0.15 + 0.6 nano-USD per token
    assert token_cost_nano(1, 0, Decimal("0.0005"), None) == 0  # half a nano-USD rounds to even
    assert token_cost_nano(3, 0, Decimal("0.0005"), None) == 2  # 1.5 -> 2


def test_ten_thousand_events_sum_to_the_hand_computed_cost(tmp_path: Path) -> None:
    rng = random.Random(5)
    events: list[UsageEvent] = []
    expected = Decimal(0)
    for number in range(10_000):
        model = _model(rng)
        event = UsageEvent(
            "ws-pricing", "key", "chat.completions", f"req_{number}", router_model=model.router_id
        )
        event.status = 200
        event.prompt_tokens = rng.randrange(0, 200_000)
        event.completion_tokens = rng.randrange(0, 20_000)
        event.images = rng.choice((0, 0, 0, 1, 4))
        event.total_tokens = event.prompt_tokens + event.completion_tokens
        event.created_at = utcnow() - timedelta(seconds=number)
        price_event(event, model)
        assert model.input_cost is not None
        assert model.output_cost is not None
        expected += (
            model.input_cost * event.prompt_tokens / 1_000_000
            + model.output_cost * event.completion_tokens / 1_000_000
            + Decimal("0.04") * event.images
        )
        events.append(event)

    totals = asyncio.run(_store_and_sum(tmp_path, events))
    assert totals["requests"] == 10_000
    stored = nano_to_usd(totals["cost_nano"])
    assert abs(stored - expected) < Decimal("0.01"), (stored, expected)
    assert round(stored, 2) == round(expected, 2)
    assert abs(stored - expected) <= Decimal(10_000) / 2 / 10**9  # at most half a nano-USD per event


async def _store_and_sum(home: Path, events: list[UsageEvent]) -> dict[str, int]:
    async def body(engine: AsyncEngine, workspace_id: str) -> dict[str, int]:
        recorder = UsageRecorder(batch_writer(engine), capacity=20_000, batch_size=500, flush_interval=0.05)
        for event in events:
            event.workspace_id = workspace_id
            recorder.record(event)
        await recorder.flush()
        await recorder.close()
        assert recorder.written == len(events)
        assert recorder.dropped == 0
        window = usage_reports.UsageFilter(
            workspace_id, utcnow() - timedelta(days=1), utcnow() + timedelta(minutes=1)
        )
        report = await usage_reports.usage_report(engine, window, "day", "model")
        assert sum(row["cost_nano"] for row in report["series"]) == report["totals"]["cost_nano"]
        return {"requests": report["totals"]["requests"], "cost_nano": report["totals"]["cost_nano"]}

    return await with_workspace(home, "pricing", body)
