"""Wire shapes of limits and budgets (/v2/budgets and the api key fields)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from relaygate.vocab import BudgetPeriod, LimitScope

PerMinute = Annotated[int | None, Field(default=None, ge=1, le=1_000_000_000)]
AmountUsd = Annotated[Decimal, Field(ge=0, le=1_000_000_000, max_digits=19, decimal_places=9)]


class KeyLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests_per_minute: PerMinute = None
    tokens_per_minute: PerMinute = None


class BudgetSpec(BaseModel):
    """An api key's budget, as the key object shows it."""

    model_config = ConfigDict(extra="forbid")

    amount_usd: AmountUsd
    period: BudgetPeriod = "month"
    expires_at: datetime | None = None


class BudgetFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount_usd: AmountUsd | None = None
    period: BudgetPeriod | None = None
    requests_per_minute: PerMinute = None
    tokens_per_minute: PerMinute = None
    expires_at: datetime | None = None


class BudgetCreate(BudgetFields):
    scope: LimitScope = "workspace"
    subject_id: Annotated[str | None, Field(default=None, min_length=1, max_length=128)] = None

    @model_validator(mode="after")
    def _complete(self) -> BudgetCreate:
        if self.scope == "workspace" and self.subject_id is not None:
            raise ValueError("a workspace budget has no subject_id")
        if self.scope != "workspace" and self.subject_id is None:
            raise ValueError(f"subject_id is required for scope {self.scope} (the api key or identity id)")
        if self.amount_usd is None and self.requests_per_minute is None and self.tokens_per_minute is None:
            raise ValueError("set amount_usd, requests_per_minute or tokens_per_minute")
        return self


class BudgetUpdate(BudgetFields):
    """Only the fields sent change; null clears a limit."""
