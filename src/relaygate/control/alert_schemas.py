"""The bodies of /v2/alerts/rules: a rule's name, kind, webhook and its kind's condition fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from relaygate.alerts.kinds import AlertKind


class _Condition(BaseModel):
    """The condition's fields; which ones a kind takes is checked by ``alerts.kinds.condition``."""

    model_config = ConfigDict(extra="forbid")

    budget_id: str | None = Field(None, description="budget_threshold: the budget watched")
    percent: float | None = Field(None, description="budget_threshold: % of the amount (default 80)")
    model: str | None = Field(None, description="model_failing, error_rate: a router id (default: all)")
    failures: int | None = Field(None, description="model_failing: failed calls in a row (default 3)")
    max_percent: float | None = Field(None, description="error_rate: the bound, % of calls failed")
    window_minutes: int | None = Field(None, description="error_rate: the window (default 5)")
    min_calls: int | None = Field(None, description="error_rate: fewer calls never fire (default 10)")

    def condition_fields(self, only_set: bool = False) -> dict[str, Any]:
        names = self.model_fields_set if only_set else set(_Condition.model_fields)
        return {name: getattr(self, name) for name in _Condition.model_fields if name in names}


class AlertRuleCreate(_Condition):
    name: str = Field(min_length=1, max_length=128)
    kind: AlertKind
    webhook_url: str = Field(min_length=1, max_length=2048)
    enabled: bool = True


class AlertRuleUpdate(_Condition):
    name: str | None = Field(None, min_length=1, max_length=128)
    webhook_url: str | None = Field(None, min_length=1, max_length=2048)
    enabled: bool | None = None
