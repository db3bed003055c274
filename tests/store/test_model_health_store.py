"""Model health in the store, on SQLite and PostgreSQL: a window sums every process's
per-minute tallies of a model (other models and older minutes left out, a minute saved
again replaced), the last success and error, the kept check results, and the health
check's lease (of two processes, one takes a due check)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import model_health, repository
from relaygate.store.model_health import MinuteRow
from relaygate.store.records import Model, new_id, utcnow

from support.store import with_workspace

ROUTER_ID = "fake/gpt-health"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    return "" if request.param == "sqlite" else str(request.getfixturevalue("empty_postgres_database"))


def _model(workspace_id: str) -> Model:
    now = utcnow()
    return Model(
        id=new_id(), workspace_id=workspace_id, router_id=ROUTER_ID, provider="fake", model_id="gpt-health",
        model_type="chat", display_name="Health", description=None, region="us",
        base_url="http://127.0.0.1:9/v1", api_key_ciphertext=b"x", api_key_key_id="k", api_key_hint="sk-…",
        max_tokens=None, temperature=None, input_cost=None, output_cost=None, cost_per_image=None,
        cache_read_cost=None, cache_write_cost=None, capabilities={}, configuration={}, validation=None,
        enabled=True, created_at=now, updated_at=now,
    )  # fmt: skip


def _row(
    router_model: str, age: timedelta, calls: int, errors: int, fast: int = 0, **last: object
) -> MinuteRow:
    latency = [0] * 62
    latency[10] = fast  # the bucket up to 9.3 ms
    return MinuteRow(
        workspace_id="", router_model=router_model, minute=(utcnow() - age).replace(second=0, microsecond=0),
        calls=calls, errors=errors, latency=latency,
        last_success_at=last.get("ok"), last_error_at=last.get("failed"),  # type: ignore[arg-type]
        last_error_status=last.get("status"), last_error_code=last.get("code"),  # type: ignore[arg-type]
    )  # fmt: skip


async def _windows(engine: AsyncEngine, workspace_id: str) -> dict[str, object]:
    now = utcnow()
    minute = timedelta(minutes=1)
    failed_at = now - minute
    rows = {
        "a": [
            _row(
                ROUTER_ID,
                minute,
                10,
                2,
                fast=8,
                ok=now - minute,
                failed=failed_at,
                status=502,
                code="upstream_error",
            ),
            _row("fake/other", minute, 1, 1),
            _row(ROUTER_ID, timedelta(hours=2), 4, 4, failed=now - timedelta(hours=2), status=504),
            _row(ROUTER_ID, timedelta(hours=30), 100, 0, fast=100),  # older than every window: forgotten
        ],
        "b": [_row(ROUTER_ID, minute, 5, 0, fast=5, ok=now)],  # another process, the same minute
    }
    for owner, owned in rows.items():
        await model_health.save_minutes(
            engine, owner, [dataclasses.replace(row, workspace_id=workspace_id) for row in owned]
        )
    # Saved again, a minute's tally replaces the one saved before (it only grows).
    grown = [0] * 10 + [6] + [0] * 51
    again = dataclasses.replace(rows["b"][0], workspace_id=workspace_id, calls=6, latency=grown)
    await model_health.save_minutes(engine, "b", [again])
    recent = await model_health.call_counts(engine, workspace_id, now - timedelta(minutes=5))
    day = await model_health.call_counts(engine, workspace_id, now - timedelta(hours=24))
    histogram = await model_health.latency_histogram(
        engine, workspace_id, ROUTER_ID, now - timedelta(minutes=5)
    )
    since = now - timedelta(hours=24)
    good = await model_health.last_call(engine, workspace_id, ROUTER_ID, failed=False, since=since)
    bad = await model_health.last_call(engine, workspace_id, ROUTER_ID, failed=True, since=since)
    old = await model_health.call_counts(engine, workspace_id, now - timedelta(hours=40))
    found = {"recent": recent, "day": day, "histogram": histogram, "good": good, "bad": bad, "old": old}
    return {**found, "now": now, "failed_at": failed_at}


def test_windows_sum_every_processes_minutes(tmp_path: Path, database_url: str) -> None:
    found = asyncio.run(with_workspace(tmp_path, "health", _windows, database_url))
    recent = found["recent"]
    assert isinstance(recent, dict)
    assert recent[ROUTER_ID] == model_health.CallCounts(calls=16, errors=2)  # a's 10 and b's 6
    assert recent["fake/other"] == model_health.CallCounts(calls=1, errors=1)
    day = found["day"]
    assert isinstance(day, dict)
    assert day[ROUTER_ID] == model_health.CallCounts(calls=20, errors=6)  # the 2 h old minute too
    assert found["old"] == found["day"]  # the 30 h old minute was forgotten when saving
    histogram = found["histogram"]
    assert isinstance(histogram, list)
    assert histogram[10] == 14
    assert sum(histogram) == 14
    good, bad = found["good"], found["bad"]
    assert isinstance(good, model_health.CallOutcome)
    assert good.at == found["now"]  # b's, the latest
    assert good.status is None
    assert isinstance(bad, model_health.CallOutcome)
    assert (bad.at, bad.status, bad.error_code) == (found["failed_at"], 502, "upstream_error")


async def _checks_and_lease(engine: AsyncEngine, workspace_id: str) -> dict[str, object]:
    model = _model(workspace_id)
    await repository.insert_model(engine, model)
    for step in range(5):
        await model_health.add_check_result(
            engine,
            model.id,
            workspace_id,
            ok=step % 2 == 0,
            status=200,
            latency_ms=1.0,
            message=f"#{step}",
            keep=3,
        )
    kept = await model_health.recent_checks(engine, model.id)
    setting = await model_health.put_check_setting(
        engine, model.id, workspace_id, enabled=True, interval_seconds=30
    )
    lease = timedelta(minutes=1)
    first, second = await asyncio.gather(
        model_health.take_due_checks(engine, "a", lease), model_health.take_due_checks(engine, "b", lease)
    )
    again = await model_health.take_due_checks(engine, "c", lease)  # next run is 30 s away
    await model_health.release_check(engine, model.id, "a" if first else "b")
    after = (await model_health.check_settings(engine, workspace_id))[model.id]
    await model_health.put_check_setting(engine, model.id, workspace_id, enabled=False, interval_seconds=60)
    disabled = await model_health.take_due_checks(engine, "d", lease)
    return {"kept": kept, "setting": setting, "taken": [first, second], "again": again, "after": after,
            "disabled": disabled, "model_id": model.id}  # fmt: skip


def test_check_results_are_trimmed_and_one_process_takes_a_due_check(
    tmp_path: Path, database_url: str
) -> None:
    found = asyncio.run(with_workspace(tmp_path, "checks", _checks_and_lease, database_url))
    kept = found["kept"]
    assert isinstance(kept, list)
    assert [result.message for result in kept] == ["#4", "#3", "#2"]  # the newest 3, newest first
    assert [result.ok for result in kept] == [True, False, True]
    taken = found["taken"]
    assert isinstance(taken, list)
    assert sorted(len(batch) for batch in taken) == [0, 1]  # exactly one of the two took it
    assert found["again"] == []
    after = found["after"]
    setting = found["setting"]
    assert isinstance(after, model_health.CheckSetting)
    assert isinstance(setting, model_health.CheckSetting)
    assert after.last_run_at is not None
    assert timedelta(seconds=29) < after.next_run_at - setting.next_run_at < timedelta(seconds=35)
    assert found["disabled"] == []
