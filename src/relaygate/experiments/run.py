"""One running experiment in the process that holds its lease.

Each target has ``concurrency`` items in flight at most: its loop claims items
``concurrency`` at a time (``experiment_items.claim_items``), starts each as a slot frees
up, runs it (``ItemWork``) and stores it as it finishes. It stops when none of the
target's items is pending or claimed (an item a dead process claimed is retried once its
claim's lease runs out), or when the spend reaches the budget (the items in flight finish
and are kept: the spend may pass the budget by what they cost; claimed items not started
are given back).

A run is halted two ways. ``drain``: claim nothing more, let the items in flight finish
(paused; the process stopping; the lease lost to another process). ``abandon``: cancel
the items in flight and give their claims back, so a later run generates them again
(cancelled; deleted; a stop whose grace ran out). A renewal every few seconds keeps the
lease and sees what other processes did to the experiment (paused, cancelled, deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import Catalog, Principal
from relaygate.deployments.config import Release, release_of
from relaygate.evaluators.engine import Evaluator
from relaygate.evaluators.router_models import RouterEntry
from relaygate.store import deployments as deployment_store
from relaygate.store import evaluators as evaluator_store
from relaygate.store import experiment_items as items
from relaygate.store import experiments as store
from relaygate.store.experiments import StoredExperiment
from relaygate.upstream.transport import Transport

from .definition import PinnedEvaluator, Status, Target
from .item_work import ItemWork, RunPlan

log = logging.getLogger("relaygate.experiments")
Halt = Literal["drain", "abandon"]


class RunFailed(Exception):
    """The run cannot go on as defined (its key revoked, an evaluator or a version deleted)."""


@dataclass(frozen=True)
class RunContext:
    """What every run of the process shares."""

    engine: AsyncEngine
    router: RouterEntry
    catalog: Catalog
    transport: Transport
    owner: str  # this process, in the leases it holds
    lease: timedelta
    renew_every_s: float
    poll_s: float  # how often a target waits for claims a dead process left to lapse


class Run:
    def __init__(self, context: RunContext, experiment: StoredExperiment) -> None:
        self._context = context
        self._experiment = experiment
        self._halt: Halt | None = None
        self._halted = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._spend = experiment.spend_nano
        budget = experiment.budget_nano
        self._over_budget = budget is not None and self._spend >= budget

    @property
    def experiment_id(self) -> str:
        return self._experiment.id

    def halt(self, how: Halt) -> None:
        """Stop claiming; ``abandon`` also cancels the items in flight."""
        if self._halt != "abandon":
            self._halt = how
        self._halted.set()
        if how == "abandon":
            for task in self._in_flight:
                task.cancel()

    async def execute(self) -> None:
        experiment, context = self._experiment, self._context
        try:
            work = ItemWork(context.router, context.catalog, context.transport, await self._plan())
        except RunFailed as exc:
            log.warning("experiment %s failed: %s", experiment.id, exc)
            await store.end_run(context.engine, experiment.id, context.owner, "failed", str(exc))
            return
        renewal = asyncio.create_task(self._renew())
        ran_out = False  # every target ran out of items, or the budget was spent
        try:
            async with asyncio.TaskGroup() as group:
                for target in range(len(experiment.targets)):
                    group.create_task(self._target(work, target))
            ran_out = self._halt is None
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            await self._finish(ran_out)

    async def _plan(self) -> RunPlan:
        experiment, engine = self._experiment, self._context.engine
        if experiment.run_by is None or not await store.key_is_active(
            engine, experiment.workspace_id, experiment.run_by
        ):
            raise RunFailed(
                "The admin key that started (or last resumed) this experiment was revoked; "
                "resume it with another admin key."
            )
        evaluators = []
        for index, stored in enumerate(experiment.evaluators):
            pinned = PinnedEvaluator.of(stored)
            version = await evaluator_store.get_version(engine, pinned.id, str(pinned.version))
            if version is None:
                raise RunFailed(f"The evaluator {pinned.key!r} (evaluators[{index}]) was deleted.")
            evaluators.append(Evaluator(pinned.id, pinned.key, pinned.version, version.content))
        targets = [Target.of(stored) for stored in experiment.targets]
        pinned_versions = {
            index: await self._pinned_release(index, target)
            for index, target in enumerate(targets)
            if target.deployment is not None and target.version is not None
        }
        principal = Principal(experiment.workspace_id, experiment.run_by, "admin")
        return RunPlan(experiment.id, principal, targets, pinned_versions, evaluators, experiment.parameters)

    async def _pinned_release(self, index: int, target: Target) -> Release:
        engine, workspace_id = self._context.engine, self._experiment.workspace_id
        key, number = str(target.deployment), int(target.version or 0)
        deployment = await deployment_store.get(engine, workspace_id, key)
        version = await deployment_store.get_version(engine, deployment.id, number) if deployment else None
        if deployment is None or version is None:
            raise RunFailed(f"The deployment {key!r} has no version {number} any more (targets[{index}]).")
        return release_of(
            deployment.id, workspace_id, key, number, version.id, version.content, version.created_at
        )

    async def _target(self, work: ItemWork, target: int) -> None:
        """Claim and run the target's items, ``concurrency`` at a time, until none is left.
        Items are claimed ``concurrency`` at a time too (one claim per that many items, not
        one per item): those not started yet wait in ``ready``, claimed, leased like the rest."""
        experiment, context = self._experiment, self._context
        running: set[asyncio.Task[None]] = set()
        ready: deque[items.ClaimedItem] = deque()
        try:
            while self._halt is None and not self._over_budget:
                if len(running) < experiment.concurrency:
                    if not ready:
                        ready.extend(
                            await items.claim_items(
                                context.engine,
                                experiment.id,
                                experiment.workspace_id,
                                target,
                                context.owner,
                                experiment.concurrency,
                                context.lease,
                            )
                        )
                    if ready:
                        while ready and len(running) < experiment.concurrency:
                            task = asyncio.create_task(self._item(work, ready.popleft()))
                            running.add(task)
                            self._in_flight.add(task)
                        continue
                    if not running:
                        if await items.unfinished(context.engine, experiment.id, target) == 0:
                            return
                        await self._wait_halt(context.poll_s)  # claims a dead process left, lapsing
                        continue
                await self._next_finished(running)
            while running:
                await self._next_finished(running)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _next_finished(self, running: set[asyncio.Task[None]]) -> None:
        finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            running.discard(task)
            self._in_flight.discard(task)
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error  # storing the item failed: the run stops

    async def _item(self, work: ItemWork, item: items.ClaimedItem) -> None:
        result = await work.run(item)
        finished = await items.finish(self._context.engine, self._experiment.id, item, result)
        if finished is None:
            return  # the claim was given back or taken over meanwhile: stored by its new claim
        self._spend = finished.spend_nano
        budget = self._experiment.budget_nano
        if budget is not None and self._spend >= budget:
            self._over_budget = True

    async def _wait_halt(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._halted.wait(), seconds)

    async def _renew(self) -> None:
        context = self._context
        while True:
            await asyncio.sleep(context.renew_every_s)
            try:
                state = await store.renew_lease(
                    context.engine, self._experiment.id, context.owner, context.lease
                )
            except Exception as exc:  # the store is away: the run goes on, the claims stay ours
                log.warning("experiment %s: could not renew its lease: %s", self._experiment.id, exc)
                continue
            if state.status in (None, "cancelled"):
                self.halt("abandon")
            elif not state.held or state.status != "running":
                self.halt("drain")

    async def _finish(self, ran_out: bool) -> None:
        """Claims of items not finished given back (cancelled ones, or a store that failed),
        then the lease, with the run's end when it ran out: completed, or budget_reached
        while items are left."""
        experiment, context = self._experiment, self._context
        try:
            await items.release_claims(context.engine, experiment.id, context.owner)
            left = 0
            if ran_out:
                for target in range(len(experiment.targets)):
                    left += await items.unfinished(context.engine, experiment.id, target)
            if ran_out and (not left or self._over_budget):
                status: Status = "budget_reached" if left else "completed"
                await store.end_run(context.engine, experiment.id, context.owner, status)
            else:
                await store.end_run(context.engine, experiment.id, context.owner)
        except Exception as exc:  # the lease lapses by itself; the next run takes the claims back
            log.error("experiment %s: could not give back its lease and claims: %s", experiment.id, exc)
