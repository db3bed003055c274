"""Model health: a model's live state, its windows, its last success and error, its checks.

Read from the store (every process's per-minute tallies, the health checks' results) plus
this process's circuit breaker (shared through Redis when configured), so every process
that shares the store says the same, within ``SAVE_S``. The request path pays nothing: the
tallies are counted by a usage observer (``health_tally``), as ``/metrics`` counts.

``HealthMonitor.run`` saves this process's tallies every ``SAVE_S`` seconds (and before it
answers, so its own calls are never late) and refreshes every model's state every
``REFRESH_S`` seconds for the ``relaygate_model_health`` gauge of ``/metrics`` (a scrape
must not query the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import model_health as store
from relaygate.store import repository
from relaygate.store.records import Model, utcnow

from .health_protocol import (
    CircuitBreaker,
    HealthCheckChange,
    HealthCheckResult,
    HealthCheckSetting,
    HealthSummary,
    HealthWindow,
    LastOutcome,
    ModelHealth,
)
from .health_rules import HealthFacts, Verdict, error_rate, judge
from .health_tally import HealthTally, MinuteTally, minute_start, percentile

log = logging.getLogger("relaygate.health")

WINDOWS: tuple[tuple[str, timedelta], ...] = (("5m", timedelta(minutes=5)), ("24h", timedelta(hours=24)))
REFRESH_S = 15.0
SAVE_S = 5.0
DEFAULT_INTERVAL_S = 300

BreakerOf = Callable[[str], Mapping[str, Any]]  # model id -> its breaker (Breakers.state_of)

# What relaygate's own error codes of a failed call mean, said to an operator.
_CALL_ERRORS = {
    "upstream_error": "the upstream answered with an error",
    "upstream_timeout": "the upstream did not answer in time",
    "upstream_unreachable": "the upstream could not be reached",
    "circuit_open": "the circuit breaker was open, so the upstream was not called",
}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _check_object(result: store.CheckResult) -> HealthCheckResult:
    return HealthCheckResult(
        at=iso(result.at),
        ok=result.ok,
        status=result.status,
        latency_ms=result.latency_ms,
        message=result.message,
    )


def _call_outcome(call: store.CallOutcome) -> LastOutcome:
    said = _CALL_ERRORS.get(call.error_code or "")
    if call.status is None:
        message = "a call was answered"
    else:
        message = f"a call failed with HTTP {call.status}" + (f": {said}" if said else "")
    return LastOutcome(
        at=iso(call.at), source="call", status=call.status, code=call.error_code, message=message
    )


def _check_outcome(result: store.CheckResult) -> LastOutcome:
    return LastOutcome(
        at=iso(result.at),
        source="check",
        status=result.status,
        code=None if result.ok else "health_check_failed",
        message=f"health check: {result.message}",
    )


def _latest(*outcomes: LastOutcome | None) -> LastOutcome | None:
    present = [outcome for outcome in outcomes if outcome is not None]
    return max(present, key=lambda outcome: outcome.at) if present else None


def _setting_object(setting: store.CheckSetting | None) -> HealthCheckSetting:
    if setting is None:
        return HealthCheckSetting(
            enabled=False, interval_seconds=DEFAULT_INTERVAL_S, next_run_at=None, last_run_at=None
        )
    return HealthCheckSetting(
        enabled=setting.enabled,
        interval_seconds=setting.interval_seconds,
        next_run_at=iso(setting.next_run_at) if setting.enabled else None,
        last_run_at=iso(setting.last_run_at) if setting.last_run_at else None,
    )


@dataclass(frozen=True, slots=True)
class HealthGauge:
    """One model's state as the ``relaygate_model_health`` gauge shows it."""

    workspace_id: str
    router_id: str
    state: str


class HealthMonitor:
    def __init__(
        self,
        engine: AsyncEngine,
        breaker_of: BreakerOf,
        tally: HealthTally,
        owner: str,
        *,
        refresh_s: float = REFRESH_S,
        save_s: float = SAVE_S,
    ) -> None:
        self._engine = engine
        self._breaker_of = breaker_of
        self._tally = tally
        self._owner = owner
        self._refresh_s = refresh_s
        self._save_s = save_s
        self._saving = asyncio.Lock()
        self.gauges: tuple[HealthGauge, ...] = ()

    async def save(self) -> None:
        """This process's tallies to the store (the minutes that changed since the last save)."""
        async with self._saving:
            taken = self._tally.take(time.time_ns() // 1000)
            if not taken:
                return
            rows = [_minute_row(key, tally) for key, tally in taken]  # read now: counting goes on
            await store.save_minutes(self._engine, self._owner, rows)

    def _facts(
        self, model: Model, day: store.CallCounts | None, recent: store.CallCounts | None, checks: list[bool]
    ) -> tuple[str, HealthFacts]:
        breaker = str(self._breaker_of(model.id).get("state", "closed"))
        facts = HealthFacts(
            breaker=breaker,
            calls_5m=recent.calls if recent else 0,
            errors_5m=recent.errors if recent else 0,
            calls_24h=day.calls if day else 0,
            checks=checks,
        )
        return breaker, facts

    async def summaries(self, workspace_id: str, models: Iterable[Model]) -> dict[str, HealthSummary]:
        """Each model's state and the figures a list shows, by model id (four queries in all)."""
        await self.save()
        now = utcnow()
        recent = await store.call_counts(self._engine, workspace_id, now - WINDOWS[0][1])
        day = await store.call_counts(self._engine, workspace_id, now - WINDOWS[1][1])
        checks = await store.workspace_checks(self._engine, workspace_id, now - WINDOWS[1][1])
        settings = await store.check_settings(self._engine, workspace_id)
        found: dict[str, HealthSummary] = {}
        for model in models:
            results = checks.get(model.id, [])
            counts = recent.get(model.router_id)
            breaker, facts = self._facts(model, day.get(model.router_id), counts, [r.ok for r in results])
            verdict = judge(facts)
            found[model.id] = HealthSummary(
                state=verdict.state,
                reasons=list(verdict.reasons),
                calls_5m=facts.calls_5m,
                error_rate_5m=error_rate(facts.calls_5m, facts.errors_5m),
                breaker_state=breaker,
                last_check=_check_object(results[0]) if results else None,
                health_check=_setting_object(settings.get(model.id)),
            )
        return found

    async def _window(self, model: Model, name: str, span: timedelta, now: datetime) -> HealthWindow:
        since = now - span
        counts = (await store.call_counts(self._engine, model.workspace_id, since)).get(model.router_id)
        calls, errors = (counts.calls, counts.errors) if counts else (0, 0)
        histogram = await store.latency_histogram(self._engine, model.workspace_id, model.router_id, since)
        return HealthWindow(
            window="5m" if name == "5m" else "24h",
            seconds=int(span.total_seconds()),
            calls=calls,
            errors=errors,
            error_rate=error_rate(calls, errors),
            p50_ms=percentile(histogram, 0.5),
            p95_ms=percentile(histogram, 0.95),
        )

    async def health(self, model: Model) -> ModelHealth:
        """The model's full health: state, windows, last success and error, checks."""
        await self.save()
        now = utcnow()
        windows = [await self._window(model, name, span, now) for name, span in WINDOWS]
        results = await store.recent_checks(self._engine, model.id)
        settings = await store.check_settings(self._engine, model.workspace_id)
        day_checks = [result.ok for result in results if result.at >= now - WINDOWS[1][1]]
        breaker = dict(self._breaker_of(model.id))
        verdict: Verdict = judge(
            HealthFacts(
                breaker=str(breaker.get("state", "closed")),
                calls_5m=windows[0].calls,
                errors_5m=windows[0].errors,
                calls_24h=windows[1].calls,
                checks=day_checks,
            )
        )
        since = now - WINDOWS[1][1]
        good = await store.last_call(
            self._engine, model.workspace_id, model.router_id, failed=False, since=since
        )
        bad = await store.last_call(
            self._engine, model.workspace_id, model.router_id, failed=True, since=since
        )
        good_check = next((result for result in results if result.ok), None)
        bad_check = next((result for result in results if not result.ok), None)
        return ModelHealth(
            object="model.health",
            model_id=model.id,
            router_id=model.router_id,
            state=verdict.state,
            reasons=list(verdict.reasons),
            computed_at=iso(now),
            breaker=CircuitBreaker.model_validate(breaker),
            windows=windows,
            last_success=_latest(
                _call_outcome(good) if good else None, _check_outcome(good_check) if good_check else None
            ),
            last_error=_latest(
                _call_outcome(bad) if bad else None, _check_outcome(bad_check) if bad_check else None
            ),
            health_check=_setting_object(settings.get(model.id)),
            checks=[_check_object(result) for result in results],
        )

    async def set_check(self, model: Model, change: HealthCheckChange) -> HealthCheckSetting:
        setting = await store.put_check_setting(
            self._engine,
            model.id,
            model.workspace_id,
            enabled=change.enabled,
            interval_seconds=change.interval_seconds,
        )
        return _setting_object(setting)

    # -- the gauge ---------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Every model's state, for the gauge."""
        gauges: list[HealthGauge] = []
        for workspace_id in await store.workspaces_with_models(self._engine):
            models = await repository.list_models(self._engine, workspace_id)
            summaries = await self.summaries(workspace_id, models)
            gauges.extend(
                HealthGauge(workspace_id, model.router_id, summaries[model.id].state) for model in models
            )
        self.gauges = tuple(gauges)

    async def run(self) -> None:
        """Save every ``save_s``, refresh the gauge every ``refresh_s``; a last save when cancelled
        (at shutdown, after the usage recorder showed the observers its last events)."""
        refreshed = 0.0
        try:
            while True:
                try:
                    await self.save()
                    if time.monotonic() - refreshed >= self._refresh_s:
                        await self.refresh()
                        refreshed = time.monotonic()
                except Exception as exc:  # the store is away: keep the tallies, try again
                    log.warning("could not save or refresh model health: %s", exc)
                await asyncio.sleep(self._save_s)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await self.save()
            raise


def _minute_row(key: tuple[str, str, int], tally: MinuteTally) -> store.MinuteRow:
    def at(micros: int | None) -> datetime | None:
        return datetime.fromtimestamp(micros / 1e6, UTC) if micros is not None else None

    workspace_id, router_model, minute = key
    return store.MinuteRow(
        workspace_id=workspace_id,
        router_model=router_model,
        minute=minute_start(minute),
        calls=tally.calls,
        errors=tally.errors,
        latency=list(tally.latency),
        last_success_at=at(tally.last_success_us),
        last_error_at=at(tally.last_error_us),
        last_error_status=tally.last_error_status,
        last_error_code=tally.last_error_code,
    )
