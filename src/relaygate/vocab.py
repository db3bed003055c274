"""The closed sets of words both planes, the store and the CLI agree on.

Each vocabulary is written once, as a ``Literal`` that type-checks the code and shapes
the ``/v2`` schemas, and its tuple (for loops, ``choices=`` and messages) is derived
from it, so a word added here is known everywhere at once.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# What a registered model serves; each router endpoint names the types it takes.
ModelType = Literal["chat", "completion", "embedding", "image", "rerank", "moderation", "tts", "stt"]
MODEL_TYPES: Final[tuple[ModelType, ...]] = get_args(ModelType)

# admin: manage the workspace and route; router: route only.
KeyRole = Literal["admin", "router"]
KEY_ROLES: Final[tuple[KeyRole, ...]] = get_args(KeyRole)

# Whom a limit or budget applies to.
LimitScope = Literal["workspace", "api_key", "identity"]
LIMIT_SCOPES: Final[tuple[LimitScope, ...]] = get_args(LimitScope)

# How long a budget's spend accumulates before it starts again ("total": never).
BudgetPeriod = Literal["day", "week", "month", "total"]
BUDGET_PERIODS: Final[tuple[BudgetPeriod, ...]] = get_args(BudgetPeriod)

# A model without supports_strict_tool: relaygate checks strict schemas itself, or refuses them.
StrictMode = Literal["emulate", "reject"]
STRICT_MODES: Final[tuple[StrictMode, ...]] = get_args(StrictMode)

# An upstream's circuit breaker, as the router keeps it and the model API shows it.
CircuitState = Literal["closed", "open", "half_open"]

# The usage report's time buckets and the columns it can group by.
UsageInterval = Literal["hour", "day"]
UsageGroup = Literal[
    "model", "api_key", "identity", "endpoint", "status", "deployment", "deployment_version", "variant"
]
