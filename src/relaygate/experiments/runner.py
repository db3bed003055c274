"""The process's experiment runner: finds running experiments nobody runs, and runs them.

Every few seconds (and at once when the API starts or resumes one: ``wake``) it looks
for running experiments that no process holds (just started or resumed, or held by a
process whose lease ran out: it died) and takes each with a conditional UPDATE
(``store.experiments.take_lease``): of several processes, exactly one wins. Each taken
experiment runs as a ``Run`` task until it ends or is halted.

At shutdown (``stop``) every run stops claiming and gets ``grace_s`` to finish the items
in flight; what is still running after that is abandoned (its claims given back), and
every lease is given back, so the next process to start runs the rest at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import Catalog
from relaygate.evaluators.router_models import RouterEntry
from relaygate.store import experiments as store
from relaygate.upstream.transport import Transport

from .run import Run, RunContext

log = logging.getLogger("relaygate.experiments")
LEASE_S = 30.0
RENEW_EVERY_S = 5.0
SCAN_EVERY_S = 5.0
GRACE_S = 10.0
ABANDON_S = 5.0
CLAIM_POLL_S = 1.0


def process_owner() -> str:
    """This process's name in the leases it holds: host, pid, and a random part (pids repeat)."""
    return f"{socket.gethostname()[:48]}:{os.getpid()}:{secrets.token_hex(4)}"


class ExperimentRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        router: RouterEntry,
        catalog: Catalog,
        transport: Transport,
        *,
        lease_s: float = LEASE_S,
        scan_every_s: float = SCAN_EVERY_S,
        grace_s: float = GRACE_S,
    ) -> None:
        self._context = RunContext(
            engine,
            router,
            catalog,
            transport,
            process_owner(),
            timedelta(seconds=lease_s),
            min(RENEW_EVERY_S, lease_s / 3),
            CLAIM_POLL_S,
        )
        self._scan_every_s = scan_every_s
        self._grace_s = grace_s
        self._runs: dict[str, tuple[Run, asyncio.Task[None]]] = {}
        self._wakeup = asyncio.Event()
        self._stopping = False

    @property
    def owner(self) -> str:
        return self._context.owner

    @property
    def running(self) -> list[str]:
        """The experiments this process runs now."""
        return list(self._runs)

    def wake(self) -> None:
        """Look for experiments to run now (one was started or resumed)."""
        self._wakeup.set()

    def halt(self, experiment_id: str, *, abandon: bool) -> None:
        """Halt the experiment's run in this process, if it runs here (other processes see
        the change at their next renewal)."""
        found = self._runs.get(experiment_id)
        if found is not None:
            found[0].halt("abandon" if abandon else "drain")

    async def run(self) -> None:
        """The background task: scan, take, run; until ``stop``."""
        while not self._stopping:
            try:
                await self._take_free_runs()
            except Exception as exc:  # the store is away: try again at the next scan
                log.warning("could not look for experiments to run: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._scan_every_s)
            self._wakeup.clear()

    async def _take_free_runs(self) -> None:
        context = self._context
        for experiment_id in await store.runs_to_take(context.engine):
            if self._stopping or experiment_id in self._runs:
                continue
            experiment = await store.take_lease(context.engine, experiment_id, context.owner, context.lease)
            if experiment is None:
                continue  # another process took it first
            run = Run(context, experiment)
            self._runs[experiment_id] = (run, asyncio.create_task(self._execute(run)))

    async def _execute(self, run: Run) -> None:
        try:
            await run.execute()
        except Exception as exc:  # e.g. the store failed: the next scan takes it again
            log.error("experiment %s: its run stopped: %s", run.experiment_id, exc, exc_info=exc)
        else:
            if not self._stopping:
                self._wakeup.set()  # it may have been resumed while its run was ending
        finally:
            self._runs.pop(run.experiment_id, None)

    async def stop(self) -> None:
        """Halt every run: the items in flight get ``grace_s`` to finish, then are abandoned."""
        self._stopping = True
        self._wakeup.set()
        runs = dict(self._runs)
        if not runs:
            return
        for run, _ in runs.values():
            run.halt("drain")
        _, late = await asyncio.wait([task for _, task in runs.values()], timeout=self._grace_s)
        if late:
            for run, task in runs.values():
                if task in late:
                    log.warning(
                        "experiment %s: items still in flight at shutdown are given back", run.experiment_id
                    )
                    run.halt("abandon")
            _, stuck = await asyncio.wait(late, timeout=ABANDON_S)
            for task in stuck:
                task.cancel()
