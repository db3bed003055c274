"""Periodic health checks: a small real request to each model that asks for one, so a model
nobody calls is still known to be up or down before users call it.

Every ``scan_every_s`` seconds (and at once when a check is switched on: ``wake``) the
process takes the checks that are due (``store.model_health.take_due_checks``: a conditional
UPDATE, so of several processes sharing the store exactly one runs each), and runs each:
the SSRF rules of the probe, then ``Prober.health_check`` (``GET /models``, then the model
type's cheapest real call, a one-token chat for a chat model). The result is kept (the
last ``KEPT_CHECKS`` per model) and feeds the model's health state. A disabled model is
not checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.crypto import CryptoError, Keyring, Sealed
from relaygate.errors import RelaygateError
from relaygate.store import model_health as store
from relaygate.store import repository
from relaygate.store.records import Model
from relaygate.upstream.probe import Prober
from relaygate.upstream.probe_findings import ProbeReport
from relaygate.upstream.ssrf import UpstreamGuard

log = logging.getLogger("relaygate.health")
SCAN_EVERY_S = 5.0
LEASE = timedelta(minutes=2)  # longer than a probe may take
_HTTP_STATUS = re.compile(r"HTTP (\d{3})")


def _status(report: ProbeReport) -> int | None:
    """The HTTP status of the step that decided: the failed one, else the last that passed."""
    deciding = report.failed or next(
        (check for check in reversed(report.checks) if check.status == "passed"), None
    )
    found = _HTTP_STATUS.search(deciding.message) if deciding is not None else None
    return int(found.group(1)) if found else None


def _summary(report: ProbeReport) -> str:
    failed = report.failed
    if failed is not None:
        return f"{failed.name} failed: {failed.message}"
    passed = [check.message for check in report.checks if check.status == "passed"]
    return "; ".join(passed) or "the upstream answered"


class HealthCheckRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        keyring: Keyring,
        guard: UpstreamGuard,
        prober: Prober,
        owner: str,
        *,
        scan_every_s: float = SCAN_EVERY_S,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._guard = guard
        self._prober = prober
        self._owner = owner
        self._scan_every_s = scan_every_s
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Look for due checks now (one was switched on)."""
        self._wakeup.set()

    async def run(self) -> None:
        """The background task: take the due checks and run them, until cancelled."""
        while True:
            try:
                await self.run_due()
            except Exception as exc:  # the store is away: try again at the next scan
                log.warning("could not run model health checks: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._scan_every_s)
            self._wakeup.clear()

    async def run_due(self) -> int:
        """Run every check that is due and no other process holds; how many ran."""
        taken = await store.take_due_checks(self._engine, self._owner, LEASE)
        await asyncio.gather(*(self._run_one(model_id, workspace_id) for model_id, workspace_id in taken))
        return len(taken)

    async def _run_one(self, model_id: str, workspace_id: str) -> None:
        try:
            model = await repository.get_model(self._engine, workspace_id, model_id)
            if model is not None and model.enabled:
                ok, status, latency_ms, message = await self._check(model)
                await store.add_check_result(
                    self._engine,
                    model.id,
                    workspace_id,
                    ok=ok,
                    status=status,
                    latency_ms=latency_ms,
                    message=message,
                )
        finally:
            await store.release_check(self._engine, model_id, self._owner)

    async def _check(self, model: Model) -> tuple[bool, int | None, float | None, str]:
        try:
            await self._guard.check_url(model.base_url)
            api_key = self._keyring.open(
                Sealed(model.api_key_key_id, model.api_key_ciphertext), associated=model.id
            )
        except RelaygateError as error:
            return False, None, None, f"not called: {error.message}"
        except CryptoError:
            return False, None, None, "not called: the stored API key cannot be decrypted with the master key"
        started = time.perf_counter()
        report = await self._prober.health_check(model.base_url, api_key, model.model_id, model.model_type)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return report.failed is None, _status(report), latency_ms, _summary(report)
