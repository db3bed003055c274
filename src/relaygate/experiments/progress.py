"""An experiment's progress as server-sent events, read from the store.

Every finished item is stored with its place in the order items finished (``seq``, set
in the transaction that stores it, so it is also the order they were committed in); the
stream polls for items after the last one it sent, so it works in whichever process the
client reached, whichever process runs the experiment. Events:

* ``item`` (``id: <seq>``): one finished datapoint x target, ``results``' object, with
  ``finished`` (how many items are finished, this one included) and ``total``;
* ``status``: the experiment's status and progress: first, whenever the status changes, and
  last (the progress as the run left it).

It starts after ``since`` (``Last-Event-ID`` on a reconnect; 0: every finished item first)
and ends when the run has ended: the status is not ``running`` and no process holds the
experiment any more (a paused run's items in flight are still sent), or when relaygate
shuts down (the client reconnects to another process with ``Last-Event-ID``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.sse import KEEPALIVE, encode_event
from relaygate.store import experiment_items as items
from relaygate.store import experiments as store
from relaygate.store.experiments import StoredExperiment
from relaygate.store.records import utcnow
from relaygate.usage.pricing import nano_to_usd

from .exports import result_object

POLL_S = 0.25
KEEPALIVE_S = 15.0
BATCH = 500


def progress_of(experiment: StoredExperiment) -> dict[str, Any]:
    return {
        "total": experiment.total,
        "done": experiment.done,
        "failed": experiment.failed,
        "remaining": experiment.remaining,
        "spend_usd": float(nano_to_usd(experiment.spend_nano)),
        "spend_nano": experiment.spend_nano,
    }


def _status_event(experiment: StoredExperiment) -> bytes:
    data = {"status": experiment.status, "error": experiment.error, "progress": progress_of(experiment)}
    return encode_event(orjson.dumps(data), "status")


def _item_event(item: items.StoredItem, labels: Sequence[str], total: int) -> bytes:
    data = {**result_object(item, labels), "finished": item.seq, "total": total}
    return f"id: {item.seq}\n".encode() + encode_event(orjson.dumps(data), "item")


def _run_over(experiment: StoredExperiment) -> bool:
    if experiment.status == "running":
        return False
    lapsed = experiment.lease_expires_at is None or experiment.lease_expires_at < utcnow()
    return experiment.owner is None or lapsed


async def progress_events(
    engine: AsyncEngine,
    experiment: StoredExperiment,
    labels: Sequence[str],
    since: int,
    stopping: Callable[[], bool],
    poll_s: float = POLL_S,
) -> AsyncIterator[bytes]:
    """The experiment's events after the ``since``-th finished item, until its run is over."""
    sent_status: str | None = None
    items_after_status = False  # the last status event is not the last event
    quiet_since = time.monotonic()
    current: StoredExperiment | None = experiment
    while current is not None:
        finished = await items.finished_since(engine, current.id, since, BATCH)
        for item in finished:
            yield _item_event(item, labels, current.total)
            since = item.seq or since
        if finished:
            quiet_since, items_after_status = time.monotonic(), True
        if len(finished) == BATCH:
            continue
        over = _run_over(current)
        if current.status != sent_status or (over and items_after_status):
            sent_status, items_after_status = current.status, False
            quiet_since = time.monotonic()
            yield _status_event(current)
        if over or stopping():
            return
        if time.monotonic() - quiet_since > KEEPALIVE_S:
            quiet_since = time.monotonic()
            yield KEEPALIVE
        await asyncio.sleep(poll_s)
        current = await store.get_experiment(engine, current.workspace_id, current.id)
    yield encode_event(orjson.dumps({"status": "deleted", "error": None}), "status")
