"""What an api key may do beyond its limits: when it expires, which models it may call, and
what its limits refused lately (the key object's ``refusals``).

The catalog holds both rules in memory (``Principal.expires_at``, ``allowed_models``) and
the data plane enforces them there: an expired key is a 401, a model outside the
allow-list a 404 as for a model of another workspace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from relaygate.errors import InvalidRequest
from relaygate.limits.rules import DEFAULT_PERIOD, period_start
from relaygate.runtime import Runtime
from relaygate.store import repository, spend_reports
from relaygate.store.records import ApiKey, utcnow
from relaygate.store.usage_reports import iso

# A key without a budget shows the refusals of the last day.
REFUSALS_WINDOW = timedelta(days=1)


def checked_expiry(expires_at: datetime | None) -> datetime | None:
    """``expires_at`` in UTC (a time without a zone is UTC); 400 unless it is in the future."""
    if expires_at is None:
        return None
    moment = expires_at.astimezone(UTC) if expires_at.tzinfo is not None else expires_at.replace(tzinfo=UTC)
    if moment <= utcnow():
        raise InvalidRequest(
            f"expires_at must be in the future (it is {iso(moment)}); revoke the key to stop it now.",
            param="expires_at",
        )
    return moment


async def checked_models(runtime: Runtime, workspace_id: str, names: list[str] | None) -> list[str] | None:
    """The allow-list without repeats, each a router id of this workspace's models (else a
    400 naming the first that is not)."""
    if names is None:
        return None
    known = {model.router_id for model in await repository.list_models(runtime.engine, workspace_id)}
    for index, name in enumerate(names):
        if name not in known:
            raise InvalidRequest(
                f"No model with router id '{name}' in this workspace; allowed_models takes router ids "
                "such as 'openai/gpt-4o-mini' (GET /v2/models lists them).",
                param=f"allowed_models[{index}]",
                code="model_not_found",
            )
    return list(dict.fromkeys(names))


async def set_access(
    runtime: Runtime,
    workspace_id: str,
    key_id: str,
    sent: set[str],
    expires_at: datetime | None,
    models: list[str] | None,
) -> ApiKey | None:
    """Store the fields sent (``expires_at``, ``allowed_models``; null clears) and refresh the catalog."""
    fields: dict[str, Any] = {}
    if "expires_at" in sent:
        fields["expires_at"] = checked_expiry(expires_at)
    if "allowed_models" in sent:
        fields["allowed_models"] = await checked_models(runtime, workspace_id, models)
    key = await repository.set_key_access(runtime.engine, workspace_id, key_id, fields)
    if fields:
        await runtime.catalog.refresh()
    return key


def access_fields(key: ApiKey) -> dict[str, Any]:
    """The key object's ``expires_at``, ``expired`` and ``allowed_models``."""
    return {
        "expires_at": iso(key.expires_at) if key.expires_at else None,
        "expired": key.expires_at is not None and key.expires_at <= utcnow(),
        "allowed_models": list(key.allowed_models) if key.allowed_models is not None else None,
    }


async def refusals(
    runtime: Runtime, workspace_id: str, extras: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per key id: its 429s since its budget's period began (else over the last day)."""
    now = utcnow()
    since_of: dict[str, datetime] = {}
    for key_id, entry in extras.items():
        budget = entry.get("budget")
        period = budget.get("period") if isinstance(budget, dict) else None
        since_of[key_id] = period_start(period or DEFAULT_PERIOD, now) if budget else now - REFUSALS_WINDOW
    counted: dict[datetime, dict[str, tuple[int, int]]] = {}
    for since in set(since_of.values()):
        counted[since] = await spend_reports.refusals_by_key(runtime.engine, workspace_id, since)
    shown: dict[str, dict[str, Any]] = {}
    for key_id, since in since_of.items():
        budget_refused, rate_refused = counted[since].get(key_id, (0, 0))
        shown[key_id] = {"since": iso(since), "budget": budget_refused, "rate_limit": rate_refused}
    return shown
