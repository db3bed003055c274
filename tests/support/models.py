"""A ``RoutableModel`` for in-process tests of the data plane's pure modules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from relaygate.catalog import RoutableModel


def routable_model(router_id: str = "fake/gpt-test", **fields: Any) -> RoutableModel:
    """A chat model at an unreachable address, priced $1/$2 per 1M tokens; ``fields`` override."""
    provider, _, model_id = router_id.partition("/")
    values: dict[str, Any] = {
        "id": router_id,
        "workspace_id": "w1",
        "router_id": router_id,
        "provider": provider,
        "model_id": model_id,
        "model_type": "chat",
        "base_url": "http://127.0.0.1:1",
        "authorization": "",
        "max_tokens": None,
        "temperature": None,
        "input_cost": Decimal(1),
        "output_cost": Decimal(2),
        "cost_per_image": None,
        "capabilities": {},
        "created": 0,
    }
    values.update(fields)
    return RoutableModel(**values)
