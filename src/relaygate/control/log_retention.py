"""The request log's retention: a background sweep of the control plane blanks the bodies
of calls older than their workspace's retention (``/v2/workspace/logging``), keeping every
usage number of the call.

Each process sweeps (the UPDATE is idempotent, so several at once cost only a little
duplicate work). A workspace's first sweep in a process walks all its older calls; later
ones only the calls that aged past the cutoff since the previous sweep (and a day before,
for rows a writer stored late).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import request_log
from relaygate.store.records import utcnow

log = logging.getLogger("relaygate.control")

SWEEP_INTERVAL_S = 3600.0
_OVERLAP = timedelta(days=1)


class LogRetention:
    def __init__(self, engine: AsyncEngine, interval_s: float = SWEEP_INTERVAL_S) -> None:
        self._engine = engine
        self._interval = interval_s
        self._swept: dict[str, datetime] = {}  # workspace -> the cutoff of its last sweep
        self.blanked = 0  # calls whose bodies went, so far

    async def sweep(self, now: datetime | None = None) -> int:
        """One pass over every workspace; how many calls lost their bodies."""
        moment = now or utcnow()
        done = 0
        for workspace, days in (await request_log.retention_days(self._engine)).items():
            before = request_log.cutoff(moment, days)
            previous = self._swept.get(workspace)
            after = previous - _OVERLAP if previous is not None and previous <= before else None
            done += await request_log.blank_bodies(self._engine, workspace, before, after)
            self._swept[workspace] = before
        self.blanked += done
        return done

    async def sweep_workspace(self, workspace_id: str, now: datetime | None = None) -> int:
        """The sweep of one workspace, all its older calls (an admin who just lowered the retention)."""
        days = (await request_log.retention_days(self._engine)).get(
            workspace_id, request_log.DEFAULT_RETENTION_DAYS
        )
        done = await request_log.blank_bodies(
            self._engine, workspace_id, request_log.cutoff(now or utcnow(), days), None
        )
        self.blanked += done
        return done

    async def run(self) -> None:
        while True:
            try:
                blanked = await self.sweep()
                if blanked:
                    log.info("request log retention: bodies of %d calls removed", blanked)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: next time
                log.warning("request log retention sweep failed: %s", exc)
            await asyncio.sleep(self._interval)
