"""What the recorder hands the store's writer reads back as it was recorded, on SQLite (the
writer process) and on PostgreSQL (the engine's asyncpg connection): JSON columns, flags the
store fills itself, timestamps to the microsecond, and identities upserted with their profile."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.store import tables, usage_reports
from relaygate.store.records import utcnow
from relaygate.store.usage_writers import batch_writer
from relaygate.usage.events import UsageEvent
from relaygate.usage.recorder import UsageRecorder

from support.store import with_workspace

PROFILE = {"id": "user-1", "display_name": "Ada", "email": "ada@example.com", "metadata": {"plan": "pro"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """ "" (a SQLite file in the test's home) or an empty PostgreSQL database."""
    return "" if request.param == "sqlite" else str(request.getfixturevalue("empty_postgres_database"))


def _events(workspace_id: str) -> list[UsageEvent]:
    start = utcnow().replace(microsecond=123_456) - timedelta(hours=2)
    plain = UsageEvent(workspace_id, None, "chat", "req_plain", status=200, prompt_tokens=3)
    rich = UsageEvent(workspace_id, None, "chat", "req_rich", status=502, stream=True, cached_tokens=7)
    rich.estimated, rich.fallback_used, rich.cache_hit = True, True, True
    rich.thread_tags, rich.request_metadata = ["a", "b"], {"team": "search"}
    rich.identity_id, rich.identity = "user-1", PROFILE
    later = UsageEvent(workspace_id, None, "embeddings", "req_later", status=200)
    later.identity_id = "user-1"  # the header's id alone: the profile already stored stays
    for step, event in enumerate((plain, rich, later)):
        event.created_at = start + timedelta(minutes=step, microseconds=step)
    return [plain, rich, later]


async def _store_and_read(engine: AsyncEngine, workspace_id: str) -> tuple[list[UsageEvent], Any, Any]:
    recorder = UsageRecorder(batch_writer(engine), capacity=100, batch_size=100, flush_interval=0.05)
    events = _events(workspace_id)
    for event in events:
        recorder.record(event)
    await recorder.flush()
    await recorder.close()
    window = usage_reports.UsageFilter(workspace_id, utcnow() - timedelta(days=1), utcnow())
    page, _ = await usage_reports.events_page(engine, window, limit=10, cursor=None)
    async with engine.connect() as conn:
        identity = (await conn.execute(select(tables.identities))).one()
    return events, page, identity


def test_a_batch_reads_back_as_it_was_recorded(tmp_path: Path, database_url: str) -> None:
    events, page, identity = asyncio.run(with_workspace(tmp_path, "writers", _store_and_read, database_url))
    stored = {row["request_id"]: row for row in page}
    plain, rich, later = (stored[event.request_id] for event in events)
    for event in events:
        assert stored[event.request_id]["created_at"] == usage_reports.iso(event.created_at)
    assert (plain["prompt_tokens"], plain["cached_tokens"], plain["estimated"]) == (3, 0, False)
    assert (plain["thread_tags"], plain["metadata"], plain["identity_id"]) == (None, None, None)
    assert (rich["status"], rich["stream"], rich["cached_tokens"]) == (502, True, 7)
    assert (rich["estimated"], rich["fallback_used"], rich["cache_hit"]) == (True, True, True)
    assert (rich["thread_tags"], rich["metadata"]) == (["a", "b"], {"team": "search"})
    assert (rich["identity_id"], later["identity_id"]) == ("user-1", "user-1")
    assert (identity.id, identity.display_name, identity.email) == ("user-1", "Ada", "ada@example.com")
    assert identity.metadata == {"plan": "pro"}
    seen = (usage_reports.iso(identity.first_seen_at), usage_reports.iso(identity.last_seen_at))
    assert seen == (usage_reports.iso(events[1].created_at), usage_reports.iso(events[2].created_at))
