"""Spend per key, identity, model or deployment, and the calls limits refused: the SQL of /v2/spend.

Like ``usage_reports``, sums run in the database on integer nano-USD and every query is
scoped to one workspace (``UsageFilter.workspace_id``). A refused call is a stored usage
event with status 429 and the code the limiter gave it: ``insufficient_quota`` for a
budget, ``rate_limit_exceeded`` for a per-minute limit (``limits/refusals.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from relaygate.store import tables
from relaygate.store.usage_reports import UsageFilter

SpendGroup = Literal["key", "identity", "model", "deployment"]
SPEND_GROUPS: tuple[SpendGroup, ...] = ("key", "identity", "model", "deployment")
EVENTS = tables.usage_events
_COLUMNS: dict[SpendGroup, ColumnElement[Any]] = {
    "key": EVENTS.c.api_key_id,
    "identity": EVENTS.c.identity_id,
    "model": EVENTS.c.router_model,
    "deployment": EVENTS.c.deployment_key,
}
BUDGET_REFUSAL = "insufficient_quota"
RATE_REFUSAL = "rate_limit_exceeded"


@dataclass(frozen=True, slots=True)
class SpendRow:
    """One group's figures over a range (``group`` None: calls without a value for it)."""

    group: str | None
    calls: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_nano: int
    budget_refusals: int
    rate_refusals: int


def _refused(code: str) -> ColumnElement[Any]:
    return func.coalesce(
        func.sum(case((and_(EVENTS.c.status == 429, EVENTS.c.error_code == code), 1), else_=0)), 0
    )


async def spend_rows(engine: AsyncEngine, where: UsageFilter, group: SpendGroup) -> list[SpendRow]:
    """Per value of ``group``: calls, errors, tokens, cost and refusals; the costliest first."""
    column = _COLUMNS[group]
    is_error = case(((EVENTS.c.status >= 400) | (EVENTS.c.status == 0), 1), else_=0)
    cost = func.coalesce(func.sum(EVENTS.c.cost_nano), 0)
    query = (
        select(
            column.label("grp"),
            func.count().label("calls"),
            func.coalesce(func.sum(is_error), 0).label("errors"),
            func.coalesce(func.sum(EVENTS.c.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(EVENTS.c.completion_tokens), 0).label("completion_tokens"),
            func.coalesce(func.sum(EVENTS.c.total_tokens), 0).label("total_tokens"),
            cost.label("cost_nano"),
            _refused(BUDGET_REFUSAL).label("budget_refusals"),
            _refused(RATE_REFUSAL).label("rate_refusals"),
        )
        .where(where.where())
        .group_by(column)
        .order_by(cost.desc(), func.count().desc())
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        SpendRow(
            None if row.grp is None else str(row.grp),
            int(row.calls),
            int(row.errors),
            int(row.prompt_tokens),
            int(row.completion_tokens),
            int(row.total_tokens),
            int(row.cost_nano),
            int(row.budget_refusals),
            int(row.rate_refusals),
        )
        for row in rows
    ]


async def refusals_by_key(
    engine: AsyncEngine, workspace_id: str, since: datetime
) -> dict[str, tuple[int, int]]:
    """Per key id: (budget refusals, rate-limit refusals) since ``since``; a key refused
    nothing is left out."""
    query = (
        select(EVENTS.c.api_key_id, _refused(BUDGET_REFUSAL), _refused(RATE_REFUSAL))
        .where(
            (EVENTS.c.workspace_id == workspace_id)
            & (EVENTS.c.created_at >= since)
            & (EVENTS.c.status == 429)
            & EVENTS.c.api_key_id.is_not(None)
        )
        .group_by(EVENTS.c.api_key_id)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {str(key_id): (int(budget), int(rate)) for key_id, budget, rate in rows}
