"""The limits' in-process tests: priced models and prepared calls as the limiter receives
them, real stores (SQLite, PostgreSQL) and a real Redis, and what they record."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import Catalog, RoutableModel
from relaygate.cluster.redis_link import RedisLink
from relaygate.crypto import Keyring, MasterKey
from relaygate.limits import Limiter
from relaygate.router.call import PreparedCall
from relaygate.router.endpoints import ENDPOINTS
from relaygate.store import tables
from relaygate.store.records import new_event_id, utcnow
from relaygate.usage.identity import Attribution

from . import databases
from .models import routable_model
from .store import with_workspace

T = TypeVar("T")
POSTGRES_URL = databases.configured_url() or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
DIALECTS = ["sqlite", "postgresql"]


def _reachable(url: str, default_port: int) -> bool:
    parsed = make_url(url)
    try:
        socket.create_connection((parsed.host or "127.0.0.1", parsed.port or default_port), timeout=1).close()
    except OSError:
        return False
    return True


def run_on_store(dialect: str, home: Path, body: Callable[[AsyncEngine, str], Awaitable[T]]) -> T:
    """``body(engine, workspace_id)`` on a fresh SQLite file or PostgreSQL database."""
    database_url = ""
    if dialect == "postgresql":
        if not _reachable(POSTGRES_URL, 5432):
            pytest.skip("PostgreSQL is not running (scripts/test starts it)")
        database_url = databases.create_database(POSTGRES_URL)
    return asyncio.run(with_workspace(home, "limits", body, database_url))


async def started_redis() -> RedisLink:
    if not _reachable(REDIS_URL, 6379):
        pytest.skip("Redis is not running (scripts/test starts it)")
    link = RedisLink(REDIS_URL)
    await link.start()
    return link


def redis_prefix() -> str:
    return f"relaygate-test-{secrets.token_hex(4)}:"


async def forget_redis_keys(link: RedisLink, prefix: str) -> None:
    """What a Redis restart does to relaygate's keys."""
    client = link.client
    assert client is not None
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)


def limiter_on(engine: AsyncEngine, redis: RedisLink, prefix: str = "relaygate-test:") -> Limiter:
    catalog = Catalog(engine, Keyring(MasterKey.from_text(MasterKey.generate_text())), 1.0)
    return Limiter(engine, catalog, redis, prefix=prefix, sync_interval=0.02)


def statements_of(engine: AsyncEngine) -> list[str]:
    """Every SQL statement ``engine`` runs from now on, as it runs it."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def store_spend(engine: AsyncEngine, workspace_id: str, api_key_id: str, cost_nano: int) -> None:
    """A stored usage event of ``api_key_id`` today that cost ``cost_nano``."""
    request_id = new_event_id()
    row = {
        "id": request_id,
        "workspace_id": workspace_id,
        "api_key_id": api_key_id,
        "endpoint": "chat.completions",
        "status": 200,
        "stream": False,
        "cost_nano": cost_nano,
        "latency_ms": 1.0,
        "request_id": request_id,
        "created_at": utcnow(),
    }
    async with engine.begin() as conn:
        await conn.execute(insert(tables.usage_events).values(**row))


def priced_model(
    workspace_id: str = "ws-1",
    *,
    input_cost: str | None = "2",
    output_cost: str | None = "8",
    cost_per_image: str | None = None,
    max_tokens: int | None = None,
) -> RoutableModel:
    """A model at ``input_cost`` / ``output_cost`` USD per 1M tokens (gpt-4.1's by default)."""
    return routable_model(
        "fake/priced",
        workspace_id=workspace_id,
        max_tokens=max_tokens,
        input_cost=None if input_cost is None else Decimal(input_cost),
        output_cost=None if output_cost is None else Decimal(output_cost),
        cost_per_image=None if cost_per_image is None else Decimal(cost_per_image),
    )


def prepared_call(
    model: RoutableModel,
    *,
    path: str = "/chat/completions",
    size: int = 100,
    max_tokens: int | None = None,
    n: int = 1,
    identity_id: str | None = None,
) -> PreparedCall:
    """A call to ``path`` whose client body was ``size`` bytes."""
    return PreparedCall(
        endpoint=ENDPOINTS[path],
        model=model,
        body={},
        stream=False,
        routing={},
        attribution=Attribution(identity_id=identity_id),
        size=size,
        max_tokens=max_tokens,
        n=n,
    )
