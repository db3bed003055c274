"""HTTP glue for /v2/spend: who spends what, against which budget, and what limits refused.

``GET /v2/spend?group_by=key|identity|model|deployment&from=&to=`` answers one row per key,
identity, model or deployment over the range: spend, calls, tokens, refusals (429s, by
budget and by rate limit), the burn rate, and for keys and identities the budget that
applies (the one closest to its limit) with what its scope spent this period, the share
used and the projection to the period's end. The workspace's own budgets come beside the
rows. ``?format=csv`` answers the rows as CSV.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from relaygate.catalog import Principal
from relaygate.runtime import Runtime
from relaygate.spreadsheet import csv_line
from relaygate.store import limits as limit_store
from relaygate.store import repository, spend_reports
from relaygate.store.records import utcnow
from relaygate.store.spend_reports import SpendGroup, SpendRow
from relaygate.store.usage_reports import UsageFilter, iso

from .auth import admin, runtime_of
from .budgets_api import _standing
from .spend_figures import BudgetFacts, budget_status, burn_per_day, tightest, usd
from .spend_protocol import SpendReport
from .usage_api import CSV_TOO, Filters, csv_response

router = APIRouter(prefix="/v2/spend", tags=["usage"])
Admin = Annotated[Principal, Depends(admin)]
_SCOPES: dict[str, str] = {"key": "api_key", "identity": "identity"}
_CSV_COLUMNS = (
    "group_by",
    "group",
    "name",
    "spend_usd",
    "calls",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "budget_refusals",
    "rate_limit_refusals",
    "burn_usd_per_day",
    "budget_usd",
    "budget_period",
    "budget_spent_usd",
    "budget_used_percent",
    "budget_near_limit",
    "projected_usd",
)


async def _budgets(runtime: Runtime, workspace_id: str, now: datetime) -> dict[str, list[BudgetFacts]]:
    """The live spend budgets by scope, each with where it stands this period."""
    found: dict[str, list[BudgetFacts]] = {}
    for budget in await limit_store.list_budgets(runtime.engine, workspace_id):
        if budget.amount_nano is None or (budget.expires_at is not None and budget.expires_at <= now):
            continue
        standing = await _standing(runtime, budget)
        spent, reserved = (0, 0) if standing is None else (standing.spent_nano, standing.reserved_nano)
        facts = BudgetFacts(
            budget.id, budget.scope, budget.subject_id, budget.amount_nano, budget.period, spent, reserved
        )
        found.setdefault(budget.scope, []).append(facts)
    return found


def _row(
    group: SpendGroup, row: SpendRow, name: str | None, budget: BudgetFacts | None, where: UsageFilter
) -> dict[str, Any]:
    burn = burn_per_day(row.cost_nano, where.start, where.end)
    return {
        "group": row.group,
        "name": name,
        "spend_usd": usd(row.cost_nano),
        "spend_nano": row.cost_nano,
        "calls": row.calls,
        "errors": row.errors,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "total_tokens": row.total_tokens,
        "refusals": {"budget": row.budget_refusals, "rate_limit": row.rate_refusals},
        "burn_usd_per_day": usd(burn),
        "budget": budget_status(budget, burn, utcnow()) if budget is not None else None,
    }


def _unfiltered(where: UsageFilter) -> bool:
    narrowing = (where.model, where.api_key_id, where.identity_id, where.deployment_key, where.variant)
    return all(value is None for value in narrowing) and where.deployment_version is None


def _empty(group: str) -> SpendRow:
    return SpendRow(group, 0, 0, 0, 0, 0, 0, 0, 0)


async def _rows(
    runtime: Runtime, where: UsageFilter, group: SpendGroup, budgets: dict[str, list[BudgetFacts]]
) -> list[dict[str, Any]]:
    rows = await spend_reports.spend_rows(runtime.engine, where, group)
    names: dict[str, str] = {}
    whole = _unfiltered(where)  # rows without calls only when nothing narrows the range's calls
    if group == "key":
        keys = await repository.list_keys(runtime.engine, where.workspace_id)
        names = {key.id: f"{key.name} ({key.prefix}…)" for key in keys}
        seen = {row.group for row in rows}
        if whole:
            rows += [_empty(key.id) for key in keys if not key.revoked and key.id not in seen]
    scoped: dict[str | None, list[BudgetFacts]] = {}
    for facts in budgets.get(_SCOPES.get(group, ""), []):
        scoped.setdefault(facts.subject_id, []).append(facts)
    if group == "identity" and whole:
        seen = {row.group for row in rows}
        rows += [_empty(subject) for subject in scoped if subject is not None and subject not in seen]
    return [
        _row(
            group,
            row,
            names.get(row.group or "", row.group),
            tightest(scoped.get(row.group, [])) if row.group is not None else None,
            where,
        )
        for row in rows
    ]


def _csv(group: SpendGroup, rows: list[dict[str, Any]]) -> Response:
    lines = [csv_line(_CSV_COLUMNS)]
    for row in rows:
        budget = row["budget"] or {}
        lines.append(
            csv_line(
                (
                    group,
                    row["group"],
                    row["name"],
                    row["spend_usd"],
                    row["calls"],
                    row["errors"],
                    row["prompt_tokens"],
                    row["completion_tokens"],
                    row["total_tokens"],
                    row["refusals"]["budget"],
                    row["refusals"]["rate_limit"],
                    row["burn_usd_per_day"],
                    budget.get("amount_usd"),
                    budget.get("period"),
                    budget.get("spent_usd"),
                    budget.get("used_percent"),
                    budget.get("near_limit"),
                    budget.get("projected_usd"),
                )
            )
        )
    return csv_response("".join(lines), f"spend-by-{group}")


@router.get(
    "",
    summary="Spend, calls, tokens, refusals and budgets per key, identity, model or deployment",
    response_model=SpendReport,
    responses=CSV_TOO,
)
async def spend(
    request: Request,
    principal: Admin,
    filters: Annotated[Filters, Depends()],
    group_by: Annotated[Literal["key", "identity", "model", "deployment"], Query()] = "key",
) -> Any:
    runtime = runtime_of(request)
    where = filters.of(principal)
    now = utcnow()
    budgets = await _budgets(runtime, principal.workspace_id, now)
    rows = await _rows(runtime, where, group_by, budgets)
    if filters.format == "csv":
        return _csv(group_by, rows)
    total = sum(row["spend_nano"] for row in rows)
    burn = burn_per_day(total, where.start, where.end)
    return {
        "object": "spend",
        "from": iso(where.start),
        "to": iso(where.end),
        "group_by": group_by,
        "days": round((where.end - where.start).total_seconds() / 86_400, 3),
        "totals": {
            "spend_usd": usd(total),
            "calls": sum(row["calls"] for row in rows),
            "total_tokens": sum(row["total_tokens"] for row in rows),
            "refusals": {
                "budget": sum(row["refusals"]["budget"] for row in rows),
                "rate_limit": sum(row["refusals"]["rate_limit"] for row in rows),
            },
            "burn_usd_per_day": usd(burn),
        },
        "workspace_budgets": [budget_status(facts, burn, now) for facts in budgets.get("workspace", [])],
        "data": rows,
    }
