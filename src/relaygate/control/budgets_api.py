"""HTTP glue for /v2/budgets, and the limits and budget an api key object shows.

A budget row limits one scope (the workspace, an api key, an identity) by spend over a
period and/or by requests and tokens per minute. A spend budget shows the two figures
admission decides on (``limits/budgets.py``): ``spent_usd``, what settled calls cost this
period, and ``reserved_usd``, what calls in flight reserved, so a refusal's message and
this object agree. When no ledger is held for the budget (it expired, or Redis just
lost it), ``spent_usd`` is summed from the stored events, which trail the calls by up to
one flush of the usage writer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from relaygate.catalog import Principal
from relaygate.errors import InvalidRequest, NotFound
from relaygate.limits.budgets import Standing
from relaygate.limits.loading import budget_rule
from relaygate.limits.rules import DEFAULT_PERIOD, period_start
from relaygate.runtime import Runtime
from relaygate.store import limits as store
from relaygate.store import repository
from relaygate.store.limits import Budget
from relaygate.store.records import utcnow
from relaygate.store.usage_reports import iso
from relaygate.usage.pricing import NANO_PER_USD, nano_to_usd

from .auth import admin, runtime_of
from .key_protocol import BudgetDeleted, BudgetList, BudgetObject
from .limit_schemas import BudgetCreate, BudgetFields, BudgetSpec, BudgetUpdate, KeyLimits

router = APIRouter(prefix="/v2/budgets", tags=["budgets"])
Admin = Annotated[Principal, Depends(admin)]


def to_nano(amount_usd: Decimal | None) -> int | None:
    return None if amount_usd is None else int(amount_usd * NANO_PER_USD)


def _usd(nano: int | None) -> float | None:
    return None if nano is None else float(nano_to_usd(nano))


async def _standing(runtime: Runtime, budget: Budget) -> Standing | None:
    """The budget's ledger as admission sees it, else the stored spend of its period."""
    if budget.amount_nano is None:
        return None
    known = await runtime.limits.standing(budget_rule(budget))
    if known is not None:
        return known
    since = period_start(budget.period or DEFAULT_PERIOD, utcnow())
    spent = await store.spent_nano(
        runtime.engine, budget.workspace_id, budget.scope, budget.subject_id, since
    )
    return Standing(spent, 0)


async def budget_object(runtime: Runtime, budget: Budget) -> BudgetObject:
    standing = await _standing(runtime, budget)
    spent, reserved = (None, None) if standing is None else (standing.spent_nano, standing.reserved_nano)
    return BudgetObject(
        id=budget.id,
        object="budget",
        scope=budget.scope,
        subject_id=budget.subject_id,
        amount_usd=_usd(budget.amount_nano),
        period=budget.period,
        spent_usd=_usd(spent),
        reserved_usd=_usd(reserved),
        requests_per_minute=budget.requests_per_minute,
        tokens_per_minute=budget.tokens_per_minute,
        expires_at=iso(budget.expires_at) if budget.expires_at else None,
        created=iso(budget.created_at),
        updated=iso(budget.updated_at),
    )


def _not_found(budget_id: str) -> NotFound:
    return NotFound(
        f"No budget with id '{budget_id}' in this workspace.", param="id", code="budget_not_found"
    )


async def _check_subject(runtime: Runtime, principal: Principal, scope: str, subject_id: str | None) -> None:
    if scope != "api_key":
        return
    keys = await repository.list_keys(runtime.engine, principal.workspace_id)
    if not any(key.id == subject_id for key in keys):
        raise InvalidRequest(
            f"No api key with id '{subject_id}' in this workspace.",
            param="subject_id",
            code="api_key_not_found",
        )


def _fields(body: BudgetCreate | BudgetUpdate, only_set: bool) -> dict[str, Any]:
    sent = body.model_fields_set if only_set else set(BudgetFields.model_fields)
    names = ("requests_per_minute", "tokens_per_minute", "expires_at", "period")
    fields: dict[str, Any] = {name: getattr(body, name) for name in names if name in sent}
    if "amount_usd" in sent:
        fields["amount_nano"] = to_nano(body.amount_usd)
    if not only_set and body.amount_usd is not None and body.period is None:
        fields["period"] = DEFAULT_PERIOD
    return fields


async def _changed(runtime: Runtime) -> None:
    await runtime.catalog.refresh()
    await runtime.limits.reload()


@router.post("", summary="Create a budget or rate limit for the workspace, an api key or an identity")
async def create_budget(body: BudgetCreate, request: Request, principal: Admin) -> BudgetObject:
    runtime = runtime_of(request)
    await _check_subject(runtime, principal, body.scope, body.subject_id)
    fields = {"scope": body.scope, "subject_id": body.subject_id, **_fields(body, only_set=False)}
    budget = await store.insert_budget(runtime.engine, principal.workspace_id, fields)
    await _changed(runtime)
    return await budget_object(runtime, budget)


@router.get("", summary="List this workspace's budgets and rate limits")
async def list_budgets(
    request: Request,
    principal: Admin,
    scope: Annotated[str | None, Query(max_length=16)] = None,
    subject_id: Annotated[str | None, Query(max_length=128)] = None,
) -> BudgetList:
    runtime = runtime_of(request)
    budgets = await store.list_budgets(
        runtime.engine, principal.workspace_id, scope=scope, subject_id=subject_id
    )
    return BudgetList(object="list", data=[await budget_object(runtime, budget) for budget in budgets])


@router.get("/{budget_id}", summary="One budget, with what its scope spent this period")
async def get_budget(budget_id: str, request: Request, principal: Admin) -> BudgetObject:
    runtime = runtime_of(request)
    budget = await store.get_budget(runtime.engine, principal.workspace_id, budget_id)
    if budget is None:
        raise _not_found(budget_id)
    return await budget_object(runtime, budget)


@router.patch("/{budget_id}", summary="Change a budget; fields sent as null are cleared")
async def update_budget(
    budget_id: str, body: BudgetUpdate, request: Request, principal: Admin
) -> BudgetObject:
    runtime = runtime_of(request)
    budget = await store.update_budget(runtime.engine, principal.workspace_id, budget_id, _fields(body, True))
    if budget is None:
        raise _not_found(budget_id)
    await _changed(runtime)
    return await budget_object(runtime, budget)


@router.delete("/{budget_id}", summary="Delete a budget; its limits stop at once")
async def delete_budget(budget_id: str, request: Request, principal: Admin) -> BudgetDeleted:
    runtime = runtime_of(request)
    if not await store.delete_budgets(runtime.engine, principal.workspace_id, budget_id=budget_id):
        raise _not_found(budget_id)
    await _changed(runtime)
    return BudgetDeleted(id=budget_id, object="budget", deleted=True)


# -- the api key fields -------------------------------------------------------------


async def key_extras(runtime: Runtime, workspace_id: str) -> dict[str, dict[str, Any]]:
    """Per key id: its ``limits`` and ``budget`` as the key object shows them."""
    limits = await store.key_limits(runtime.engine, workspace_id)
    extras: dict[str, dict[str, Any]] = {
        key_id: {
            "limits": {"requests_per_minute": rpm, "tokens_per_minute": tpm},
            "budget": None,
        }
        for key_id, (rpm, tpm) in limits.items()
    }
    for budget in await store.list_budgets(runtime.engine, workspace_id, scope="api_key"):
        entry = extras.get(budget.subject_id or "")
        if entry is None or budget.amount_nano is None or entry["budget"] is not None:
            continue
        full = await budget_object(runtime, budget)
        shown = {"id", "amount_usd", "period", "spent_usd", "reserved_usd", "expires_at"}
        entry["budget"] = full.model_dump(include=shown)
    return extras


async def set_key_limits(
    runtime: Runtime,
    principal: Principal,
    key_id: str,
    limits: KeyLimits | None,
    budget: BudgetSpec | None,
    *,
    replace_budget: bool,
) -> None:
    """Store a key's per-minute limits and (when asked) replace its budget."""
    if limits is not None:
        await store.set_key_limits(
            runtime.engine,
            principal.workspace_id,
            key_id,
            limits.requests_per_minute,
            limits.tokens_per_minute,
        )
    if replace_budget:
        await store.delete_budgets(runtime.engine, principal.workspace_id, scope="api_key", subject_id=key_id)
        if budget is not None:
            fields = {
                "scope": "api_key",
                "subject_id": key_id,
                "amount_nano": to_nano(budget.amount_usd),
                "period": budget.period,
                "expires_at": budget.expires_at,
            }
            await store.insert_budget(runtime.engine, principal.workspace_id, fields)
    await _changed(runtime)
