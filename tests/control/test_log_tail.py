"""``control/log_tail.LogTail`` on a real store: one poll per workspace shared by its listeners,
each listener's own filter, a call stored late (within the lookback) still sent once, one stored
too late not sent, and the poll gone with the last listener."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.control.log_tail import LogTail
from relaygate.store import request_log, tables
from relaygate.store.records import utcnow

from support.databases import configured_url, create_database
from support.store import with_workspace

POLL_S = 0.05


async def _store(
    engine: AsyncEngine, workspace_id: str, request_id: str, model: str, at: datetime | None = None
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(tables.usage_events).values(
                id=request_id, workspace_id=workspace_id, request_id=request_id, endpoint="chat.completions",
                router_model=model, upstream_model="gpt-test", status=200, stream=False, latency_ms=1.0,
                created_at=at or utcnow(),
            )
        )  # fmt: skip


async def _drain(queue: asyncio.Queue[dict[str, object]]) -> list[object]:
    found = []
    while not queue.empty():
        found.append(queue.get_nowait()["request_id"])
    return found


def test_one_poll_per_workspace_filters_and_late_rows(tmp_path: Path) -> None:
    async def body(engine: AsyncEngine, workspace_id: str) -> None:
        tail = LogTail(engine, lookback_s=2.0, poll_s=POLL_S)
        everything = request_log.LogFilter(workspace_id)
        only_b = request_log.LogFilter(workspace_id, model="m/b")
        async with tail.listen(everything) as first, tail.listen(only_b) as second:
            started = utcnow()
            await asyncio.sleep(0.5)
            await _store(engine, workspace_id, "req_1", "m/a")
            await _store(engine, workspace_id, "req_2", "m/b")
            await asyncio.sleep(POLL_S * 4)
            # A writer's late batch: made before the newest call seen, stored after it.
            await _store(engine, workspace_id, "req_late", "m/b", started + timedelta(seconds=0.25))
            await _store(engine, workspace_id, "req_before", "m/a", started - timedelta(seconds=30))
            await asyncio.sleep(POLL_S * 6)
            polls = tail.polls
            assert await _drain(first.queue) == ["req_1", "req_2", "req_late"]
            assert await _drain(second.queue) == ["req_2", "req_late"]
        assert polls <= 24, "one poll per interval for the workspace, not one per listener"
        await asyncio.sleep(POLL_S * 3)
        assert tail.polls == polls or tail.polls <= polls + 1, "the poll stops with the last listener"

    url = configured_url()
    asyncio.run(with_workspace(tmp_path, "tail", body, create_database(url) if url else ""))
