"""Alerts in the store: rules, the episodes firing now, events with their delivery log, the
evaluator's lease, and the two usage figures rules read (error counts, latest statuses).

An episode opens and closes in one transaction with its event: the state row's primary key
(rule, subject) lets one episode fire once, and deleting it lets it resolve once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import tables
from relaygate.store.records import utcnow
from relaygate.store.repository import aware

RULES = tables.alert_rules
STATES = tables.alert_states
EVENTS = tables.alert_events
LEASE = tables.alert_lease
USAGE = tables.usage_events
LEASE_NAME = "alerts"


@dataclass(frozen=True)
class StoredRule:
    id: str
    workspace_id: str
    name: str
    kind: str
    config: dict[str, Any]
    webhook_url: str
    secret_ciphertext: bytes
    secret_key_id: str
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StoredEvent:
    id: str
    workspace_id: str
    rule_id: str
    rule_name: str
    kind: str
    state: str
    test: bool
    subject: str
    value: float | None
    threshold: float | None
    at: datetime
    body: str
    delivery: str
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def _rule(row: Any) -> StoredRule:
    values = dict(row._mapping)
    values["created_at"] = aware(values["created_at"])
    values["updated_at"] = aware(values["updated_at"])
    return StoredRule(**values)


def _event(row: Any) -> StoredEvent:
    values = {name: row._mapping[name] for name in EVENTS.c.keys()}  # noqa: SIM118 (column names)
    for name in ("at", "next_attempt_at", "delivered_at"):
        values[name] = aware(values[name])
    return StoredEvent(**values)


# -- rules ---------------------------------------------------------------------------------------


async def insert_rule(engine: AsyncEngine, rule: StoredRule) -> StoredRule:
    async with engine.begin() as conn:
        await conn.execute(insert(RULES).values(**rule.__dict__))
    return rule


async def get_rule(engine: AsyncEngine, workspace_id: str, rule_id: str) -> StoredRule | None:
    mine = (RULES.c.id == rule_id) & (RULES.c.workspace_id == workspace_id)
    async with engine.connect() as conn:
        row = (await conn.execute(select(RULES).where(mine))).first()
    return _rule(row) if row is not None else None


async def list_rules(engine: AsyncEngine, workspace_id: str | None = None) -> list[StoredRule]:
    """A workspace's rules, oldest first; every enabled rule of every workspace without one."""
    query = select(RULES).order_by(RULES.c.created_at, RULES.c.id)
    query = (
        query.where(RULES.c.workspace_id == workspace_id) if workspace_id else query.where(RULES.c.enabled)
    )
    async with engine.connect() as conn:
        return [_rule(row) for row in await conn.execute(query)]


async def update_rule(
    engine: AsyncEngine, workspace_id: str, rule_id: str, values: dict[str, Any]
) -> StoredRule | None:
    """The rule changed; a changed condition or a disabled rule ends its episodes silently."""
    mine = (RULES.c.id == rule_id) & (RULES.c.workspace_id == workspace_id)
    async with engine.begin() as conn:
        changed = await conn.execute(update(RULES).where(mine).values(**values, updated_at=utcnow()))
        if changed.rowcount == 0:
            return None
        if "config" in values or values.get("enabled") is False:
            await conn.execute(delete(STATES).where(STATES.c.rule_id == rule_id))
        row = (await conn.execute(select(RULES).where(mine))).one()
    return _rule(row)


async def delete_rule(engine: AsyncEngine, workspace_id: str, rule_id: str) -> bool:
    async with engine.begin() as conn:
        mine = (RULES.c.id == rule_id) & (RULES.c.workspace_id == workspace_id)
        found = (await conn.execute(select(RULES.c.id).where(mine))).first()
        if found is None:
            return False
        await conn.execute(delete(STATES).where(STATES.c.rule_id == rule_id))
        await conn.execute(delete(RULES).where(mine))
    return True


# -- episodes ------------------------------------------------------------------------------------


async def firing(engine: AsyncEngine, rule_ids: Iterable[str]) -> dict[str, set[str]]:
    """The subjects each rule fires for now."""
    ids = list(rule_ids)
    found: dict[str, set[str]] = {rule_id: set() for rule_id in ids}
    if not ids:
        return found
    async with engine.connect() as conn:
        for rule_id, subject in await conn.execute(
            select(STATES.c.rule_id, STATES.c.subject).where(STATES.c.rule_id.in_(ids))
        ):
            found[rule_id].add(subject)
    return found


async def open_episode(engine: AsyncEngine, event: StoredEvent) -> bool:
    """The episode of (rule, subject) opened with its ``firing`` event; False if already open."""
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(STATES).values(
                    rule_id=event.rule_id, subject=event.subject, since=event.at, value=event.value
                )
            )
            await conn.execute(insert(EVENTS).values(**event.__dict__))
    except IntegrityError:
        return False
    return True


async def close_episode(engine: AsyncEngine, event: StoredEvent) -> bool:
    """The episode of (rule, subject) closed with its ``resolved`` event; False if none was open."""
    async with engine.begin() as conn:
        gone = await conn.execute(
            delete(STATES).where((STATES.c.rule_id == event.rule_id) & (STATES.c.subject == event.subject))
        )
        if gone.rowcount == 0:
            return False
        await conn.execute(insert(EVENTS).values(**event.__dict__))
    return True


# -- events and deliveries -----------------------------------------------------------------------


async def insert_event(engine: AsyncEngine, event: StoredEvent) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(EVENTS).values(**event.__dict__))


async def due_events(engine: AsyncEngine, now: datetime, limit: int = 50) -> list[StoredEvent]:
    """Events whose next delivery attempt is due, oldest first."""
    due = (EVENTS.c.delivery == "pending") & (EVENTS.c.next_attempt_at <= now)
    async with engine.connect() as conn:
        rows = await conn.execute(select(EVENTS).where(due).order_by(EVENTS.c.id).limit(limit))
        return [_event(row) for row in rows]


async def rules_by_id(engine: AsyncEngine, rule_ids: Iterable[str]) -> dict[str, StoredRule]:
    ids = list(set(rule_ids))
    if not ids:
        return {}
    async with engine.connect() as conn:
        return {row.id: _rule(row) for row in await conn.execute(select(RULES).where(RULES.c.id.in_(ids)))}


async def record_attempt(
    engine: AsyncEngine,
    event: StoredEvent,
    attempt: dict[str, Any],
    *,
    delivery: str,
    next_attempt_at: datetime | None,
) -> None:
    """One delivery attempt logged on its event, with what happens next."""
    values: dict[str, Any] = {
        "delivery": delivery,
        "attempts": event.attempts + 1,
        "next_attempt_at": next_attempt_at,
        "deliveries": [*event.deliveries, attempt],
    }
    if delivery == "delivered":
        values["delivered_at"] = utcnow()
    async with engine.begin() as conn:
        await conn.execute(update(EVENTS).where(EVENTS.c.id == event.id).values(**values))


async def get_event(engine: AsyncEngine, event_id: str) -> StoredEvent | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(EVENTS).where(EVENTS.c.id == event_id))).first()
    return _event(row) if row is not None else None


async def events_page(
    engine: AsyncEngine, workspace_id: str, limit: int, after: str | None, rule_id: str | None
) -> tuple[list[StoredEvent], bool]:
    """A workspace's events newest first, older than ``after``; and whether more follow."""
    query = select(EVENTS).where(EVENTS.c.workspace_id == workspace_id)
    if rule_id is not None:
        query = query.where(EVENTS.c.rule_id == rule_id)
    if after is not None:
        query = query.where(EVENTS.c.id < after)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(EVENTS.c.id.desc()).limit(limit + 1))).all()
    return [_event(row) for row in rows[:limit]], len(rows) > limit


# -- the lease -----------------------------------------------------------------------------------


async def take_lease(engine: AsyncEngine, owner: str, lease: timedelta) -> bool:
    """Whether ``owner`` holds the evaluator's lease now (taken, kept or renewed)."""
    now = utcnow()
    free = or_(LEASE.c.owner.is_(None), LEASE.c.owner == owner, LEASE.c.expires_at < now)
    async with engine.begin() as conn:
        taken = await conn.execute(
            update(LEASE)
            .where((LEASE.c.name == LEASE_NAME) & free)
            .values(owner=owner, expires_at=now + lease)
        )
        if taken.rowcount:
            return True
        if (await conn.execute(select(LEASE.c.name).where(LEASE.c.name == LEASE_NAME))).first() is not None:
            return False
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(LEASE).values(name=LEASE_NAME, owner=owner, expires_at=now + lease))
    except IntegrityError:
        return False  # another process made the row first: it holds the lease
    return True


async def release_lease(engine: AsyncEngine, owner: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(LEASE)
            .where((LEASE.c.name == LEASE_NAME) & (LEASE.c.owner == owner))
            .values(owner=None, expires_at=None)
        )


# -- what rules read of usage ----------------------------------------------------------------------

_FAILED = or_(USAGE.c.status >= 500, USAGE.c.status == 0)


async def call_counts(
    engine: AsyncEngine, workspace_id: str, since: datetime, router_model: str | None
) -> tuple[int, int]:
    """(calls, failed calls: 5xx or no answer) of a workspace, or one model, since ``since``."""
    where = and_(USAGE.c.workspace_id == workspace_id, USAGE.c.created_at >= since)
    if router_model is not None:
        where = and_(where, USAGE.c.router_model == router_model)
    failed = func.coalesce(func.sum(case((_FAILED, 1), else_=0)), 0)
    async with engine.connect() as conn:
        row = (await conn.execute(select(func.count(), failed).where(where))).one()
    return int(row[0] or 0), int(row[1] or 0)


async def latest_statuses(
    engine: AsyncEngine, workspace_id: str, router_model: str, count: int, since: datetime
) -> list[int]:
    """The statuses of a model's last ``count`` calls since ``since`` (bounding the scan), newest first."""
    where = (
        (USAGE.c.workspace_id == workspace_id)
        & (USAGE.c.created_at >= since)
        & (USAGE.c.router_model == router_model)
    )
    query = select(USAGE.c.status).where(where).order_by(USAGE.c.created_at.desc()).limit(count)
    async with engine.connect() as conn:
        return [int(status) for status in (await conn.execute(query)).scalars()]


# -- master-key rotation ---------------------------------------------------------------------------


async def sealed_secrets(engine: AsyncEngine) -> list[tuple[str, str, bytes]]:
    """Every rule's (id, master key id, sealed signing secret)."""
    columns = (RULES.c.id, RULES.c.secret_key_id, RULES.c.secret_ciphertext)
    async with engine.connect() as conn:
        return [(row[0], row[1], row[2]) for row in await conn.execute(select(*columns))]


async def reseal_rule_secret(
    engine: AsyncEngine, rule_id: str, old_ciphertext: bytes, key_id: str, ciphertext: bytes
) -> bool:
    """Replace a rule's sealed secret if it is still ``old_ciphertext`` (master-key rotation)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(RULES)
            .where((RULES.c.id == rule_id) & (RULES.c.secret_ciphertext == old_ciphertext))
            .values(secret_ciphertext=ciphertext, secret_key_id=key_id)
        )
    return bool(result.rowcount)
