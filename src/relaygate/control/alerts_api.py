"""HTTP glue for /v2/alerts: rules (CRUD, test delivery) and the events with their delivery."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from relaygate.catalog import Principal
from relaygate.deployments.ids import is_ulid
from relaygate.errors import InvalidRequest
from relaygate.store import alerts as store
from relaygate.store.alerts import StoredEvent, StoredRule
from relaygate.store.usage_reports import iso

from .alert_schemas import AlertRuleCreate, AlertRuleUpdate
from .alert_service import AlertService
from .auth import admin, runtime_of

router = APIRouter(prefix="/v2/alerts", tags=["alerts"])
Admin = Annotated[Principal, Depends(admin)]


def _service(request: Request) -> AlertService:
    return runtime_of(request).alerts


def rule_object(service: AlertService, rule: StoredRule, firing: set[str]) -> dict[str, Any]:
    return {
        "id": rule.id,
        "object": "alert_rule",
        "name": rule.name,
        "kind": rule.kind,
        "enabled": rule.enabled,
        "webhook_url": rule.webhook_url,
        "secret_hint": service.secret_hint(rule),
        **rule.config,
        "firing": sorted(firing),
        "created": iso(rule.created_at),
        "updated": iso(rule.updated_at),
    }


def event_object(event: StoredEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "object": "alert_event",
        "rule_id": event.rule_id,
        "rule_name": event.rule_name,
        "kind": event.kind,
        "state": event.state,
        "test": event.test,
        "subject": event.subject,
        "value": event.value,
        "threshold": event.threshold,
        "created": iso(event.at),
        "delivery": {
            "status": event.delivery,
            "attempts": event.attempts,
            "next_attempt_at": iso(event.next_attempt_at) if event.next_attempt_at else None,
            "delivered_at": iso(event.delivered_at) if event.delivered_at else None,
            "log": event.deliveries,
        },
    }


async def _with_state(request: Request, rule: StoredRule) -> dict[str, Any]:
    service = _service(request)
    firing = await store.firing(runtime_of(request).engine, [rule.id])
    return rule_object(service, rule, firing[rule.id])


@router.post("/rules", summary="Create an alert rule; its webhook signing secret is in this answer only")
async def create_rule(body: AlertRuleCreate, request: Request, principal: Admin) -> dict[str, Any]:
    rule, secret = await _service(request).create(principal, body)
    return {**await _with_state(request, rule), "secret": secret}


@router.get("/rules", summary="List this workspace's alert rules")
async def list_rules(request: Request, principal: Admin) -> dict[str, Any]:
    engine = runtime_of(request).engine
    rules = await store.list_rules(engine, principal.workspace_id)
    firing = await store.firing(engine, (rule.id for rule in rules))
    service = _service(request)
    return {"object": "list", "data": [rule_object(service, rule, firing[rule.id]) for rule in rules]}


@router.get("/rules/{rule_id}", summary="One alert rule, with the subjects it fires for now")
async def get_rule(rule_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    return await _with_state(request, await _service(request).get(principal.workspace_id, rule_id))


@router.patch(
    "/rules/{rule_id}", summary="Change a rule (a changed condition or a disabled rule ends its episodes)"
)
async def update_rule(
    rule_id: str, body: AlertRuleUpdate, request: Request, principal: Admin
) -> dict[str, Any]:
    rule = await _service(request).update(principal.workspace_id, rule_id, body)
    return await _with_state(request, rule)


@router.delete("/rules/{rule_id}", summary="Delete a rule (its events are kept)", status_code=204)
async def delete_rule(rule_id: str, request: Request, principal: Admin) -> Response:
    await _service(request).delete(principal.workspace_id, rule_id)
    return Response(status_code=204)


@router.post("/rules/{rule_id}/test", summary="Send a test event to the rule's webhook now (one attempt)")
async def test_rule(rule_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    event = await _service(request).test(principal.workspace_id, rule_id)
    return event_object(event)


@router.get("", summary="This workspace's alert events, newest first, with their delivery")
async def list_events(
    request: Request,
    principal: Admin,
    rule: Annotated[str | None, Query(max_length=36, description="one rule's events")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(max_length=36, description="the previous page's next_cursor")] = None,
) -> dict[str, Any]:
    if after is not None and not is_ulid(after):
        raise InvalidRequest("after must be a next_cursor this endpoint gave.", param="after")
    engine = runtime_of(request).engine
    events, more = await store.events_page(engine, principal.workspace_id, limit, after, rule or None)
    return {
        "object": "list",
        "data": [event_object(event) for event in events],
        "has_more": more,
        "next_cursor": events[-1].id if more and events else None,
    }
