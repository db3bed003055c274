"""The alerts' evaluator: in the one process holding the lease, every ``interval_s`` it reads
each enabled rule's condition, opens an episode (a ``firing`` event) for a subject past its
threshold and closes it (a ``resolved`` event) when it is back, then delivers the events
that are due, each retried with exponential backoff up to ``MAX_ATTEMPTS``.

Several processes share one store: each tries the lease (a conditional UPDATE of one row)
every round and only its holder evaluates and delivers, so an episode is sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.crypto import CryptoError, Keyring, Sealed
from relaygate.deployments.ids import new_ulid
from relaygate.experiments.runner import process_owner
from relaygate.store import alerts as store
from relaygate.store.alerts import StoredEvent, StoredRule
from relaygate.store.records import utcnow
from relaygate.store.usage_reports import iso
from relaygate.upstream.transport import Transport

from . import webhook
from .conditions import Conditions, Reading

log = logging.getLogger("relaygate.alerts")
MAX_ATTEMPTS = 5
PARALLEL_DELIVERIES = 8


def event_of(
    rule: StoredRule,
    state: str,
    subject: str,
    value: float | None,
    threshold: float | None,
    *,
    test: bool = False,
    at: datetime | None = None,
) -> StoredEvent:
    """An event and the JSON body its webhook gets (the same bytes on every attempt)."""
    event_id, moment = new_ulid(), at or utcnow()
    body = {
        "id": event_id,
        "rule": rule.id,
        "rule_name": rule.name,
        "kind": rule.kind,
        "state": state,
        "workspace": rule.workspace_id,
        "subject": subject,
        "value": value,
        "threshold": threshold,
        "at": iso(moment),
        "test": test,
    }
    return StoredEvent(
        id=event_id,
        workspace_id=rule.workspace_id,
        rule_id=rule.id,
        rule_name=rule.name,
        kind=rule.kind,
        state=state,
        test=test,
        subject=subject,
        value=value,
        threshold=threshold,
        at=moment,
        body=orjson.dumps(body).decode(),
        delivery="pending",
        next_attempt_at=moment,
    )


class AlertRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        keyring: Keyring,
        transport: Transport,
        conditions: Conditions,
        *,
        interval_s: float,
        retry_base_s: float,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._transport = transport
        self._conditions = conditions
        self._interval_s = interval_s
        self._retry_base_s = retry_base_s
        self._lease = timedelta(seconds=max(30.0, interval_s * 3))
        self._owner = process_owner()
        self._stopping = asyncio.Event()

    def secret_of(self, rule: StoredRule) -> str:
        return self._keyring.open(Sealed(rule.secret_key_id, rule.secret_ciphertext), associated=rule.id)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception as exc:  # the store may be down for a while: try again next round
                log.error("alerts round failed: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval_s)

    async def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(Exception):
            await store.release_lease(self._engine, self._owner)

    async def tick(self) -> None:
        if not await store.take_lease(self._engine, self._owner, self._lease):
            return
        await self.evaluate()
        await self.deliver_due()

    async def evaluate(self) -> None:
        rules = await store.list_rules(self._engine)
        open_now = await store.firing(self._engine, (rule.id for rule in rules))
        for rule in rules:
            try:
                readings = await self._conditions.read(rule)
            except Exception as exc:
                log.error("alert rule %s could not be read: %s: %s", rule.id, type(exc).__name__, exc)
                continue
            await self._settle(rule, readings, open_now[rule.id])

    async def _settle(self, rule: StoredRule, readings: list[Reading], open_subjects: set[str]) -> None:
        seen = set()
        for reading in readings:
            seen.add(reading.subject)
            if reading.firing and reading.subject not in open_subjects:
                event = event_of(rule, "firing", reading.subject, reading.value, reading.threshold)
                await store.open_episode(self._engine, event)
            elif not reading.firing and reading.subject in open_subjects:
                event = event_of(rule, "resolved", reading.subject, reading.value, reading.threshold)
                await store.close_episode(self._engine, event)
        for subject in open_subjects - seen:  # its budget or model is gone: the episode ends
            await store.close_episode(self._engine, event_of(rule, "resolved", subject, None, None))

    async def deliver_due(self) -> None:
        due = await store.due_events(self._engine, utcnow())
        if not due:
            return
        rules = await store.rules_by_id(self._engine, (event.rule_id for event in due))
        gate = asyncio.Semaphore(PARALLEL_DELIVERIES)

        async def one(event: StoredEvent) -> None:
            async with gate:
                await self.deliver(event, rules.get(event.rule_id), retry=True)

        await asyncio.gather(*(one(event) for event in due))

    async def deliver(self, event: StoredEvent, rule: StoredRule | None, *, retry: bool) -> StoredEvent:
        """One attempt at ``event``, logged on it; with ``retry``, a failure is tried again later."""
        now = utcnow()
        attempt = await self._attempt(event, rule)
        attempts = event.attempts + 1
        if attempt.ok:
            delivery, next_at = "delivered", None
        elif retry and rule is not None and attempts < MAX_ATTEMPTS:
            delivery = "pending"
            next_at = now + timedelta(seconds=self._retry_base_s * 2 ** (attempts - 1))
        else:
            delivery, next_at = "failed", None
        await store.record_attempt(
            self._engine, event, attempt.as_log(iso(now)), delivery=delivery, next_attempt_at=next_at
        )
        return await store.get_event(self._engine, event.id) or event

    async def _attempt(self, event: StoredEvent, rule: StoredRule | None) -> webhook.Attempt:
        if rule is None:
            return webhook.Attempt(False, None, "the rule was deleted", 0.0)
        try:
            secret = self.secret_of(rule)
        except CryptoError:
            return webhook.Attempt(
                False, None, "the signing secret cannot be opened with the master keys", 0.0
            )
        return await webhook.post(self._transport, rule.webhook_url, secret, event.id, event.body.encode())

    async def send_test(self, rule: StoredRule) -> StoredEvent:
        """A test event for ``rule``, delivered once now (no retry), kept in the log."""
        event = event_of(rule, "firing", "test", None, None, test=True)
        event = StoredEvent(**{**event.__dict__, "next_attempt_at": None})  # never picked up as due
        await store.insert_event(self._engine, event)
        return await self.deliver(event, rule, retry=False)
