"""The SQLite usage writer process: what it stores survives its own death, nothing twice,
and a stop signal sent to the whole process group does not cut it off."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import tables
from relaygate.store.sqlite_usage_writer import STATEMENT_ROWS, regrouped
from relaygate.store.usage_writers import SqliteProcessWriter, UsageStoreError, batch_writer
from relaygate.usage.events import UsageEvent
from relaygate.usage.recorder import SLICE, Queued, UsageRecorder, queued

from support.store import with_workspace


def _writer_pids() -> list[int]:
    """Our children running the writer (read from /proc, not from the writer object)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == os.getpid() and b"relaygate.store.sqlite_usage_writer" in command:
            found.append(int(entry.name))
    return found


def _events(workspace_id: str, first: int, count: int) -> list[UsageEvent]:
    events = []
    for number in range(first, first + count):
        event = UsageEvent(workspace_id, None, "chat", f"req_{number:08d}", id=f"req_{number:08d}")
        event.status, event.stream, event.identity_id = 200, number % 2 == 0, f"user-{number % 3}"
        event.thread_tags = ["a", "b"] if number % 5 == 0 else None
        events.append(event)
    return events


async def in_slices(batch: list[Queued]) -> AsyncIterator[list[Queued]]:
    """A batch as the recorder hands it to a writer."""
    for start in range(0, len(batch), SLICE):
        yield batch[start : start + SLICE]


def _batch(workspace_id: str, first: int, count: int) -> list[Queued]:
    return [queued(event) for event in _events(workspace_id, first, count)]


async def _count(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        events = (await conn.execute(select(func.count()).select_from(tables.usage_events))).scalar_one()
        people = (await conn.execute(select(func.count()).select_from(tables.identities))).scalar_one()
    return events, people


def _run(home: Path, body: Callable[[AsyncEngine, str], Awaitable[None]]) -> None:
    asyncio.run(with_workspace(home, "writer", body))


def test_a_killed_writer_is_restarted_and_a_batch_sent_again_is_stored_once(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        writer = batch_writer(engine)
        first = _batch(workspace_id, 0, 250)
        await writer.write(in_slices(first))
        (pid,) = _writer_pids()
        os.kill(pid, signal.SIGKILL)
        await writer.write(in_slices(first))  # as after a commit whose answer was lost: no duplicate
        await writer.write(in_slices(_batch(workspace_id, 250, 250)))
        assert _writer_pids() != [pid]
        await writer.close()
        assert _writer_pids() == []
        assert await _count(engine) == (500, 3)

    _run(tmp_path, body)


def test_the_writer_ignores_stop_signals_and_the_recorder_loses_nothing(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        recorder = UsageRecorder(batch_writer(engine), capacity=10_000, batch_size=100, flush_interval=0.05)
        for event in _events(workspace_id, 0, 150):
            recorder.record(event)
        await recorder.flush()
        for pid in _writer_pids():  # what a Ctrl-C or a group-wide SIGTERM would do to it
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGINT)
        for event in _events(workspace_id, 150, 150):
            recorder.record(event)
        await recorder.stop()
        await recorder.close()
        assert recorder.written == 300
        assert recorder.dropped == 0
        assert await _count(engine) == (300, 3)

    _run(tmp_path, body)


def test_a_batch_of_many_slices_is_stored_all_or_nothing(tmp_path: Path) -> None:
    """The writer stores a batch slice by slice, in one transaction: a failure in its last
    slice (here an identity of a workspace that does not exist) leaves none of it stored."""

    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        writer = batch_writer(engine)
        events = _events(workspace_id, 0, 2 * STATEMENT_ROWS + 7)
        broken = _events("no-such-workspace", 10_000, 1)
        with pytest.raises(UsageStoreError, match="FOREIGN KEY"):
            await writer.write(in_slices([queued(event) for event in events + broken]))
        assert await _count(engine) == (0, 0)
        await writer.write(in_slices([queued(event) for event in events]))
        await writer.close()
        assert await _count(engine) == (2 * STATEMENT_ROWS + 7, 3)

    _run(tmp_path, body)


def test_slices_are_regrouped_into_statements_of_a_fixed_size_in_their_order() -> None:
    batch = _batch("ws", 0, 2 * STATEMENT_ROWS + 7)
    parts = [batch[:3], batch[3 : 3 + SLICE], [], batch[3 + SLICE :]]
    groups = list(regrouped(parts, STATEMENT_ROWS))
    assert [len(group) for group in groups] == [STATEMENT_ROWS, STATEMENT_ROWS, 7]
    assert [queued for group in groups for queued in group] == batch


def test_event_ids_sort_in_the_order_the_events_were_made(tmp_path: Path) -> None:
    """Usage event ids are time-ordered (UUIDv7): the usage table's key index only grows at
    its end. With random ids every insert landed on a random page of it, and the writer's
    work per event grew with the table (10 us on an empty one, 42 us past 200,000 events)."""

    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        events = [UsageEvent(workspace_id, None, "chat", f"req_{number}") for number in range(3 * SLICE)]
        for event in events:
            event.status = 200
        writer = batch_writer(engine)
        await writer.write(in_slices([queued(event) for event in reversed(events)]))
        await writer.close()
        async with engine.connect() as conn:
            stored = (await conn.execute(select(tables.usage_events.c.request_id).order_by("id"))).scalars()
            assert list(stored) == [event.request_id for event in events]

    _run(tmp_path, body)


def test_timestamps_are_stored_to_the_microsecond_across_seconds_and_time_zones(tmp_path: Path) -> None:
    """The writer formats a slice's timestamps once per second; every event still gets its own
    instant back, whatever the second, the microsecond or the zone it was made in."""
    start = datetime(2026, 12, 31, 23, 59, 58, 999_990, tzinfo=UTC)
    steps = [0, 1, 9, 10, 11, 999_999, 1_000_000, 1_000_010, 1_999_999, 2_000_000, 3_600_000_001]
    made = [start + timedelta(microseconds=step) for step in steps]
    made[3] = made[3].astimezone(timezone(timedelta(hours=5, minutes=30)))  # same instant, another zone
    made[7] = made[7].astimezone(timezone(timedelta(hours=-8)))

    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        events = _events(workspace_id, 0, len(made))
        for event, created_at in zip(events, made, strict=True):
            event.created_at = created_at
        writer = batch_writer(engine)
        await writer.write(in_slices([queued(event) for event in events]))
        await writer.close()
        async with engine.connect() as conn:
            query = select(tables.usage_events.c.request_id, tables.usage_events.c.created_at)
            stored = {request_id: created_at for request_id, created_at in (await conn.execute(query)).all()}
        for event in events:
            assert stored[event.request_id].replace(tzinfo=UTC) == event.created_at, event.request_id

    _run(tmp_path, body)


def test_a_stuck_writer_is_replaced_and_its_batch_kept(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        assert engine.url.database is not None
        writer = SqliteProcessWriter(engine.url.database, answer_timeout=3.0)
        await writer.write(in_slices(_batch(workspace_id, 0, 10)))  # started and answering
        (pid,) = _writer_pids()
        os.kill(pid, signal.SIGSTOP)  # a stalled disk, as far as the parent can tell
        batch = _batch(workspace_id, 10, 10)
        with pytest.raises(UsageStoreError, match="did not answer"):
            await writer.write(in_slices(batch))
        await writer.write(in_slices(batch))  # the recorder's retry: a new process stores it
        assert pid not in _writer_pids()
        await writer.close()
        assert await _count(engine) == (20, 3)

    _run(tmp_path, body)


def test_columns_left_out_of_a_batch_are_stored_as_their_defaults(tmp_path: Path) -> None:
    """The writer leaves out of its INSERT the columns no event of the batch has a value in,
    or the store's own default in every event (zero counts, false flags); a batch where only
    some events carry them stores each event as it was."""

    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        plain = _events(workspace_id, 0, 3)
        for event in plain:
            event.identity_id, event.thread_tags = None, None
        rich = _events(workspace_id, 3, 2)
        rich[0].audio_seconds, rich[0].request_metadata, rich[0].cached_tokens = 1.5, {"team": "a"}, 7
        rich[1].error_code, rich[1].estimated, rich[1].thread_tags = "upstream_error", True, ["x"]
        writer = batch_writer(engine)
        await writer.write(in_slices([queued(event) for event in plain]))  # none of the optional columns
        await writer.write(in_slices([queued(event) for event in rich]))  # some, in some events only
        await writer.close()
        columns = tables.usage_events.c
        async with engine.connect() as conn:
            stored = {
                row.id: row
                for row in await conn.execute(
                    select(
                        columns.id,
                        columns.audio_seconds,
                        columns.request_metadata,
                        columns.cached_tokens,
                        columns.error_code,
                        columns.estimated,
                        columns.thread_tags,
                        columns.identity_id,
                        columns.created_at,
                    )
                )
            }
        assert len(stored) == 5
        for event in plain:
            row = stored[event.id]
            assert (row.audio_seconds, row.request_metadata, row.cached_tokens) == (None, None, 0)
            assert (row.error_code, row.estimated, row.thread_tags) == (None, False, None)
            assert row.identity_id is None
            assert row.created_at.replace(tzinfo=None) == event.created_at.replace(tzinfo=None)
        first, second = stored[rich[0].id], stored[rich[1].id]
        assert (first.audio_seconds, first.request_metadata, first.cached_tokens) == (1.5, {"team": "a"}, 7)
        assert (first.error_code, first.estimated, first.thread_tags) == (None, False, None)
        assert (second.audio_seconds, second.request_metadata, second.cached_tokens) == (None, None, 0)
        assert (second.error_code, second.estimated, second.thread_tags) == ("upstream_error", True, ["x"])
        assert second.identity_id == rich[1].identity_id

    _run(tmp_path, body)


class _Counting:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def observe(self, event: UsageEvent) -> None:
        self.seen.append(event.id)


class _Broken:
    def observe(self, event: UsageEvent) -> None:
        raise RuntimeError("exporter down")


def test_observers_see_each_event_once_and_a_broken_one_loses_nothing(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        assert engine.url.database is not None
        writer = SqliteProcessWriter(engine.url.database, answer_timeout=3.0)
        counting = _Counting()
        recorder = UsageRecorder(
            writer, capacity=10_000, batch_size=120, flush_interval=0.05, observers=(_Broken(), counting)
        )
        for event in _events(workspace_id, 0, 120):
            recorder.record(event)
        await recorder.flush()  # starts the writer
        (pid,) = _writer_pids()
        os.kill(pid, signal.SIGSTOP)  # the next batch times out and is retried
        for event in _events(workspace_id, 120, 120):
            recorder.record(event)
        with pytest.raises(UsageStoreError):
            await recorder.flush()
        assert recorder.depth == 120  # kept, in order, for the retry
        await recorder.flush()
        await recorder.close()
        assert recorder.written == 240
        assert sorted(counting.seen) == sorted(event.id for event in _events(workspace_id, 0, 240))
        assert await _count(engine) == (240, 3)

    _run(tmp_path, body)


def test_batches_go_to_a_normal_priority_writer_while_the_idle_one_is_short_of_cpu(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An idle-priority writer that spends most of its time answering (here: stopped for a
    while, as a saturated machine would leave it) hands over to one at normal priority, which
    hands back once answering is quick again; every batch is stored once."""

    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        assert engine.url.database is not None
        writer = SqliteProcessWriter(engine.url.database, answer_timeout=5.0, busy_window=0.3)
        await writer.write(in_slices(_batch(workspace_id, 0, 10)))
        (idle,) = _writer_pids()
        assert os.sched_getscheduler(idle) == os.SCHED_IDLE
        os.kill(idle, signal.SIGSTOP)
        asyncio.get_running_loop().call_later(0.6, os.kill, idle, signal.SIGCONT)
        await writer.write(in_slices(_batch(workspace_id, 10, 10)))  # answered after 0.6 s
        await writer.write(in_slices(_batch(workspace_id, 20, 10)))
        (normal,) = set(_writer_pids()) - {idle}
        assert os.sched_getscheduler(normal) == os.SCHED_OTHER
        await asyncio.sleep(0.4)
        await writer.write(in_slices(_batch(workspace_id, 30, 10)))  # a quiet window: back to idle
        os.kill(normal, signal.SIGSTOP)  # the next batch must not need it
        await writer.write(in_slices(_batch(workspace_id, 40, 10)))
        os.kill(normal, signal.SIGCONT)
        assert sorted(_writer_pids()) == sorted([idle, normal])
        await writer.close()
        assert _writer_pids() == []
        assert await _count(engine) == (50, 3)

    with caplog.at_level("INFO", logger="relaygate.usage"):
        _run(tmp_path, body)
    assert "at idle priority: normal priority" in caplog.text
    assert "back to idle priority" in caplog.text


def test_a_writer_started_at_normal_priority_stays_there(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        assert engine.url.database is not None
        path = engine.url.database
        writer = SqliteProcessWriter(path, answer_timeout=5.0, busy_window=0.3, background=False)
        await writer.write(in_slices(_batch(workspace_id, 0, 10)))
        (pid,) = _writer_pids()
        assert os.sched_getscheduler(pid) == os.SCHED_OTHER
        os.kill(pid, signal.SIGSTOP)
        asyncio.get_running_loop().call_later(0.6, os.kill, pid, signal.SIGCONT)
        await writer.write(in_slices(_batch(workspace_id, 10, 10)))
        await asyncio.sleep(0.4)
        await writer.write(in_slices(_batch(workspace_id, 20, 10)))
        assert _writer_pids() == [pid]
        await writer.close()
        assert await _count(engine) == (30, 3)

    _run(tmp_path, body)
