"""The store's side of running an experiment, in process on a real store (SQLite, and
PostgreSQL when it runs): the lease one process holds, items claimed before they are
generated, finished once, given back, and retried when a dead process's claim lapses."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import datasets, experiment_items, experiments
from relaygate.store.experiment_items import ItemResult

from support import databases
from support.store import with_workspace

LEASE = timedelta(seconds=30)
LAPSED = timedelta(seconds=-1)  # a lease that ran out at once: its holder "died"
POSTGRES_URL = databases.configured_url() or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
Body = Callable[[AsyncEngine, str], Awaitable[None]]


@pytest.fixture(params=["sqlite", "postgresql"])
def run_on_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Body], None]:
    url = ""
    if request.param == "postgresql":
        parsed = make_url(POSTGRES_URL)
        try:
            socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout=1).close()
        except OSError:
            pytest.skip("PostgreSQL is not running")
        url = databases.create_database(POSTGRES_URL)

    def run(body: Body) -> None:
        asyncio.run(with_workspace(tmp_path, "claims", body, url))

    return run


async def _running(engine: AsyncEngine, workspace_id: str, datapoints: int, targets: int = 2) -> str:
    """A started experiment over ``datapoints`` datapoints x ``targets`` targets."""
    dataset = await datasets.create_dataset(engine, workspace_id, "set", None, "key")
    rows = [{"messages": [{"role": "user", "content": f"q{n}"}]} for n in range(datapoints)]
    await datasets.add_datapoints(engine, workspace_id, dataset.id, rows, "key")
    definition: dict[str, Any] = {
        "name": "claims",
        "dataset_id": dataset.id,
        "targets": [{"model": f"m/{n}"} for n in range(targets)],
        "evaluators": [],
        "parameters": None,
        "concurrency": 4,
        "budget_nano": None,
    }
    experiment_id = await experiments.create_experiment(engine, workspace_id, definition, "key")
    draft = await experiments.get_experiment(engine, workspace_id, experiment_id)
    assert draft is not None
    assert await experiments.start_experiment(engine, draft, "key") is not None
    return experiment_id


def _done(cost: int) -> ItemResult:
    return ItemResult("done", output="answer", cost_nano=cost, eval_cost_nano=1)


def test_starting_makes_one_pending_item_per_datapoint_and_target_once(
    run_on_store: Callable[[Body], None],
) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        experiment_id = await _running(engine, workspace_id, datapoints=3, targets=2)
        started = await experiments.get_experiment(engine, workspace_id, experiment_id)
        assert started is not None
        assert (started.status, started.total, started.remaining) == ("running", 6, 6)
        assert await experiments.start_experiment(engine, started, "key") is None, "not a draft any more"
        assert [await experiment_items.unfinished(engine, experiment_id, target) for target in (0, 1)] == [
            3,
            3,
        ]

    run_on_store(body)


def test_starting_an_empty_dataset_leaves_a_draft(run_on_store: Callable[[Body], None]) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        dataset = await datasets.create_dataset(engine, workspace_id, "empty", None, "key")
        definition = {"name": "e", "dataset_id": dataset.id, "targets": [{"model": "m"}], "evaluators": []}
        experiment_id = await experiments.create_experiment(
            engine, workspace_id, {**definition, "concurrency": 1}, "key"
        )
        draft = await experiments.get_experiment(engine, workspace_id, experiment_id)
        assert draft is not None
        with pytest.raises(experiments.EmptyDataset):
            await experiments.start_experiment(engine, draft, "key")
        again = await experiments.get_experiment(engine, workspace_id, experiment_id)
        assert again is not None
        assert again.status == "draft"

    run_on_store(body)


def test_one_owner_holds_the_lease_until_it_lapses_or_is_given_back(
    run_on_store: Callable[[Body], None],
) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        experiment_id = await _running(engine, workspace_id, datapoints=1)
        assert await experiments.runs_to_take(engine) == [experiment_id]
        taken = await asyncio.gather(
            *(experiments.take_lease(engine, experiment_id, owner, LEASE) for owner in ("a", "b", "c"))
        )
        holders = [str(taken_by.owner) for taken_by in taken if taken_by is not None]
        assert len(holders) == 1, "exactly one of three racing processes takes it"
        assert await experiments.take_lease(engine, experiment_id, "d", LEASE) is None
        # The holder's last renewal lapses (it "died"): another process takes it over.
        await experiments.renew_lease(engine, experiment_id, holders[0], LAPSED)
        assert await experiments.take_lease(engine, experiment_id, "d", LEASE) is not None
        assert await experiments.take_lease(engine, experiment_id, "e", LEASE) is None
        assert await experiments.runs_to_take(engine) == []
        renewed = await experiments.renew_lease(engine, experiment_id, "d", LEASE)
        assert (renewed.held, renewed.status) == (True, "running")
        lost = await experiments.renew_lease(engine, experiment_id, holders[0], LEASE)
        assert (lost.held, lost.status) == (False, "running")
        assert await experiments.end_run(engine, experiment_id, "d")  # given back, still running
        assert await experiments.runs_to_take(engine) == [experiment_id]

    run_on_store(body)


def test_claims_are_disjoint_in_datapoint_order_and_only_for_the_holder(
    run_on_store: Callable[[Body], None],
) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        experiment_id = await _running(engine, workspace_id, datapoints=5)

        async def claim(owner: str, target: int, limit: int) -> list[experiment_items.ClaimedItem]:
            return await experiment_items.claim_items(
                engine, experiment_id, workspace_id, target, owner, limit, LEASE
            )

        assert await claim("a", 0, 5) == [], "nobody claims without holding the experiment"
        assert await experiments.take_lease(engine, experiment_id, "a", LEASE) is not None
        assert await claim("b", 0, 5) == [], "only the holder claims"
        first, second = await asyncio.gather(claim("a", 0, 2), claim("a", 0, 2))
        ids = [item.datapoint_id for item in first + second]
        assert len(ids) == len(set(ids)) == 4, "two claims at once never take the same item"
        rest = await claim("a", 0, 5)
        assert len(rest) == 1
        assert rest[0].datapoint_id not in ids
        assert rest[0].datapoint_id > max(ids), "claims go in datapoint order"
        assert rest[0].datapoint is not None
        assert rest[0].datapoint["messages"][0]["role"] == "user"
        assert await claim("a", 0, 5) == [], "every item of target 0 is claimed"
        assert len(await claim("a", 1, 5)) == 5, "target 1's items are its own"
        assert await experiment_items.release_claims(engine, experiment_id, "a") == 10
        assert len(await claim("a", 0, 5)) == 5, "given back: pending again"

    run_on_store(body)


def test_a_claim_is_finished_once_and_moves_the_counters(run_on_store: Callable[[Body], None]) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        experiment_id = await _running(engine, workspace_id, datapoints=2, targets=1)
        await experiments.take_lease(engine, experiment_id, "a", LEASE)
        first, second = await experiment_items.claim_items(
            engine, experiment_id, workspace_id, 0, "a", 2, LEASE
        )
        finished = await experiment_items.finish(engine, experiment_id, first, _done(cost=100))
        assert finished == experiment_items.Finished(seq=1, spend_nano=101)
        assert await experiment_items.finish(engine, experiment_id, first, _done(cost=100)) is None, "once"
        failed = ItemResult("failed", error="HTTP 502: upstream down", cost_nano=5)
        assert await experiment_items.finish(
            engine, experiment_id, second, failed
        ) == experiment_items.Finished(2, 106)
        stored = await experiments.get_experiment(engine, workspace_id, experiment_id)
        assert stored is not None
        assert (stored.done, stored.failed, stored.remaining, stored.spend_nano, stored.seq) == (
            1,
            1,
            0,
            106,
            2,
        )
        events = await experiment_items.finished_since(engine, experiment_id, 0)
        assert [(item.datapoint_id, item.seq, item.status) for item in events] == [
            (first.datapoint_id, 1, "done"),
            (second.datapoint_id, 2, "failed"),
        ]
        assert [item.seq for item in await experiment_items.finished_since(engine, experiment_id, 1)] == [2]
        assert await experiment_items.unfinished(engine, experiment_id, 0) == 0

    run_on_store(body)


def test_a_dead_processs_claim_is_retried_once_it_lapses_and_its_late_answer_is_not_stored(
    run_on_store: Callable[[Body], None],
) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        experiment_id = await _running(engine, workspace_id, datapoints=2, targets=1)
        await experiments.take_lease(engine, experiment_id, "dead", LAPSED)
        stale = await experiment_items.claim_items(engine, experiment_id, workspace_id, 0, "dead", 1, LEASE)
        lapsing = await experiment_items.claim_items(
            engine, experiment_id, workspace_id, 0, "dead", 1, LAPSED
        )
        assert len(stale) == len(lapsing) == 1
        # A new process takes the experiment (the dead one's lease lapsed): the claim that
        # lapsed is claimable again; the one still leased is not.
        await experiments.take_lease(engine, experiment_id, "alive", LEASE)
        retried = await experiment_items.claim_items(
            engine, experiment_id, workspace_id, 0, "alive", 5, LEASE
        )
        assert [item.datapoint_id for item in retried] == [lapsing[0].datapoint_id]
        assert await experiment_items.finish(engine, experiment_id, lapsing[0], _done(cost=7)) is None
        assert await experiment_items.finish(engine, experiment_id, retried[0], _done(cost=7)) is not None
        stored = await experiments.get_experiment(engine, workspace_id, experiment_id)
        assert stored is not None
        assert (stored.done, stored.spend_nano) == (1, 8)
        assert await experiment_items.unfinished(engine, experiment_id, 0) == 1, "the leased claim waits"

    run_on_store(body)


def test_status_changes_are_conditional(run_on_store: Callable[[Body], None]) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        experiment_id = await _running(engine, workspace_id, datapoints=1, targets=1)
        await experiments.take_lease(engine, experiment_id, "a", LEASE)
        assert await experiments.resume(engine, workspace_id, experiment_id, "key", None) is None
        paused = await experiments.pause(engine, workspace_id, experiment_id)
        assert paused is not None
        assert paused.status == "paused"
        assert await experiments.pause(engine, workspace_id, experiment_id) is None
        assert not await experiments.end_run(engine, experiment_id, "b", "completed"), "not b's"
        assert await experiments.end_run(engine, experiment_id, "a", "completed"), "given back"
        still = await experiments.get_experiment(engine, workspace_id, experiment_id)
        assert still is not None
        assert (still.status, still.owner) == ("paused", None), "a pause is not undone"
        resumed = await experiments.resume(engine, workspace_id, experiment_id, "other-key", 500)
        assert resumed is not None
        assert (resumed.status, resumed.run_by, resumed.budget_nano) == (
            "running",
            "other-key",
            500,
        )
        assert await experiments.delete_experiment(engine, workspace_id, experiment_id)
        assert await experiments.get_experiment(engine, workspace_id, experiment_id) is None

    run_on_store(body)
