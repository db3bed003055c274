"""The limits that apply to a call, indexed for the hot path.

A rule belongs to one scope (the workspace, one api key, one identity) and carries any
of: requests per minute, tokens per minute, a spend budget over a period. Rules come
from ``api_keys`` (the key's own per-minute limits) and ``budgets``; the rule set is
rebuilt off the request path whenever the catalog version moves. Looking up a call's
rules is two or three dict lookups, and nothing at all when its workspace has none.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DEFAULT_PERIOD = "month"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    workspace_id: str
    scope: str
    subject_id: str | None
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    amount_nano: int | None = None
    period: str | None = None
    expires_at: float | None = None  # unix seconds

    def live(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class RuleSet:
    by_workspace: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    by_key: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    by_identity: dict[tuple[str, str], tuple[Rule, ...]] = field(default_factory=dict)
    workspaces_with_identity_rules: frozenset[str] = frozenset()
    workspaces_with_rules: frozenset[str] = frozenset()

    @classmethod
    def of(cls, rules: list[Rule]) -> RuleSet:
        by_workspace: dict[str, list[Rule]] = {}
        by_key: dict[str, list[Rule]] = {}
        by_identity: dict[tuple[str, str], list[Rule]] = {}
        for rule in rules:
            if rule.scope == "workspace":
                by_workspace.setdefault(rule.workspace_id, []).append(rule)
            elif rule.scope == "api_key" and rule.subject_id is not None:
                by_key.setdefault(rule.subject_id, []).append(rule)
            elif rule.scope == "identity" and rule.subject_id is not None:
                by_identity.setdefault((rule.workspace_id, rule.subject_id), []).append(rule)
        return cls(
            {key: tuple(value) for key, value in by_workspace.items()},
            {key: tuple(value) for key, value in by_key.items()},
            {key: tuple(value) for key, value in by_identity.items()},
            frozenset(workspace for workspace, _ in by_identity),
            frozenset(rule.workspace_id for rule in rules),
        )

    def applicable(self, workspace_id: str, key_id: str, identity_id: str | None) -> tuple[Rule, ...]:
        rules = self.by_workspace.get(workspace_id, ()) + self.by_key.get(key_id, ())
        if identity_id is not None and workspace_id in self.workspaces_with_identity_rules:
            rules += self.by_identity.get((workspace_id, identity_id), ())
        return rules


def period_start(period: str, now: datetime) -> datetime:
    """The start (UTC) of the budget period that contains ``now``; weeks start on Monday."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return datetime(1970, 1, 1, tzinfo=UTC)


def period_end(period: str, start: datetime) -> datetime | None:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return start + timedelta(days=calendar.monthrange(start.year, start.month)[1])
    return None
