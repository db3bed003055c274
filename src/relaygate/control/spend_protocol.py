"""Wire shapes of the /v2/spend JSON answer (absent values omitted: ``api_object``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .api_object import ApiObject, Omittable


class Refusals(ApiObject):
    budget: int  # 429 insufficient_quota
    rate_limit: int  # 429 rate_limit_exceeded


class BudgetStatus(ApiObject):
    id: str
    scope: str
    subject_id: Omittable[str] = None
    amount_usd: float
    period: str
    period_start: str
    period_end: Omittable[str] = None  # a "total" budget never ends
    spent_usd: float  # what the scope's settled calls cost this period
    reserved_usd: float  # what its calls in flight reserved
    used_percent: float
    near_limit: bool  # 80 % or more used
    projected_usd: Omittable[float] = None  # this period's spend at its end, at the range's burn rate
    projected_over: bool  # the projection passes the budget


class SpendRowObject(ApiObject):
    group: Omittable[str] = None  # absent: calls without a value (no key, identity or deployment)
    name: Omittable[str] = None  # a key's name and prefix
    spend_usd: float
    spend_nano: int
    calls: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    refusals: Refusals
    burn_usd_per_day: float
    budget: Omittable[BudgetStatus] = None  # keys and identities: the budget closest to its limit


class SpendTotals(ApiObject):
    spend_usd: float
    calls: int
    total_tokens: int
    refusals: Refusals
    burn_usd_per_day: float


class SpendReport(ApiObject):
    object: Literal["spend"]
    from_: str = Field(alias="from")
    to: str
    group_by: Literal["key", "identity", "model", "deployment"]
    days: float
    totals: SpendTotals
    workspace_budgets: list[BudgetStatus]
    data: list[SpendRowObject]
