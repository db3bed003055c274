"""Wire shapes of the /v2/api-keys and /v2/budgets answers (absent values omitted: ``api_object``)."""

from __future__ import annotations

from typing import Literal

from .api_object import ApiObject, Omittable


class KeyLimitsView(ApiObject):
    requests_per_minute: Omittable[int] = None
    tokens_per_minute: Omittable[int] = None


class KeyBudgetView(ApiObject):
    id: str
    amount_usd: float
    period: Omittable[str] = None
    spent_usd: Omittable[float] = None
    reserved_usd: Omittable[float] = None
    expires_at: Omittable[str] = None


class KeyRefusals(ApiObject):
    """The key's calls refused with 429 since ``since`` (its budget's period start, else 24 h ago)."""

    since: str
    budget: int  # insufficient_quota: a budget (the key's, its identity's or the workspace's)
    rate_limit: int  # rate_limit_exceeded: a per-minute limit


class ApiKeyObject(ApiObject):
    id: str
    object: Literal["api_key"]
    name: str
    role: str
    prefix: str
    workspace_id: str
    created: str
    last_used_at: Omittable[str] = None
    expires_at: Omittable[str] = None  # the key stops authenticating then
    expired: bool = False
    allowed_models: Omittable[list[str]] = None  # absent: every model of the workspace
    revoked: bool
    limits: KeyLimitsView
    budget: Omittable[KeyBudgetView] = None
    refusals: Omittable[KeyRefusals] = None
    key: Omittable[str] = None  # the secret: in the answer that created the key only


class ApiKeyList(ApiObject):
    object: Literal["list"]
    data: list[ApiKeyObject]


class ApiKeyDeleted(ApiObject):
    id: str
    object: Literal["api_key"]
    deleted: bool
    revoked: bool


class BudgetObject(ApiObject):
    id: str
    object: Literal["budget"]
    scope: str
    subject_id: Omittable[str] = None
    amount_usd: Omittable[float] = None
    period: Omittable[str] = None
    spent_usd: Omittable[float] = None  # with amount_usd: what settled calls cost this period
    reserved_usd: Omittable[float] = None  # with amount_usd: what calls in flight reserved
    requests_per_minute: Omittable[int] = None
    tokens_per_minute: Omittable[int] = None
    expires_at: Omittable[str] = None
    created: str
    updated: str


class BudgetList(ApiObject):
    object: Literal["list"]
    data: list[BudgetObject]


class BudgetDeleted(ApiObject):
    id: str
    object: Literal["budget"]
    deleted: bool
