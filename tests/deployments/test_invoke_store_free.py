"""Invoking a deployment runs no store query on the request path: the catalog holds every
deployment's current release. The whole application in process (its real store, SQLite,
and a budget so the limits are active too), a fake upstream on loopback, httpx's ASGI
transport; every SQL statement the engine runs while a request is served is counted,
with the background's own store work (the catalog's poll, the limits' reload) pushed out
of the way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from relaygate.app import assemble
from relaygate.crypto import hash_api_key
from relaygate.runtime import Runtime
from relaygate.settings import Settings

from support.deployment_calls import INPUTS, TEMPLATE
from support.store import add_workspace
from upstream import FakeUpstream


@asynccontextmanager
async def application(home: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient, str]]:
    """The started application, a client of it, and an admin key of a fresh workspace."""
    env = {
        "RELAYGATE_HOME": str(home),
        "RELAYGATE_ALLOW_PRIVATE_UPSTREAMS": "1",
        # The background's store work waits an hour: writes here refresh the catalog
        # themselves, and the limits are reloaded by hand once the budget is made.
        "RELAYGATE_CATALOG_POLL_INTERVAL": "3600",
        "RELAYGATE_LIMITS_SYNC_INTERVAL": "3600",
    }
    settings = Settings.from_env(env)
    runtime, app = assemble(settings)
    await runtime.start(chain_signals=False)
    try:
        key = await add_workspace(settings, "store-free")
        await runtime.catalog.refresh(force=True)
        transport = httpx.ASGITransport(app=app)
        headers = {"authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://relaygate", headers=headers
        ) as client:
            yield runtime, client, key
    finally:
        await runtime.stop()


async def counted(runtime: Runtime, request: Awaitable[httpx.Response]) -> tuple[httpx.Response, list[str]]:
    """A request's answer, and the statements the store ran while it was served."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    try:
        return await request, seen
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


async def _set_up(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    model = {
        "model_type": "chat",
        "base_url": upstream.url,
        "api_key": upstream.api_key,
        "display_name": "Test",
        "model_id": "gpt-test",
        "region": "us",
        "provider": "fake",
    }
    assert (await client.post("/v2/models/openai-like", json=model)).status_code == 200
    budget = {"scope": "workspace", "amount_usd": 100, "period": "month", "requests_per_minute": 1000}
    assert (await client.post("/v2/budgets", json=budget)).status_code == 200
    deployment = {"key": "support", "model": "fake/gpt-test", "messages": TEMPLATE}
    assert (await client.post("/v2/deployments", json=deployment)).status_code == 200


def test_invoke_stream_and_the_router_run_no_store_query(tmp_path: Path) -> None:
    async def body() -> None:
        with FakeUpstream() as upstream:
            async with application(tmp_path) as (runtime, client, key):
                await _set_up(client, upstream)
                await runtime.limits.reload()
                principal = runtime.catalog.principal(hash_api_key(key))
                assert principal is not None
                assert runtime.limits.active(principal.workspace_id)  # admission runs, in memory
                invoke = {"key": "support", "inputs": INPUTS}
                calls = [
                    client.post("/v2/deployments/invoke", json=invoke),
                    client.post("/v2/deployments/stream", json=invoke),
                    client.post(
                        "/v3/router/chat/completions",
                        json={"model": "deployment/support", "messages": [], "inputs": INPUTS},
                    ),
                ]
                for call in calls:
                    response, statements = await counted(runtime, call)
                    assert response.status_code == 200, response.text
                    assert statements == [], f"{response.request.url.path} queried the store"
                # The count sees what a call does query: a key the catalog lacks is looked up once.
                unknown = client.post("/v2/deployments/invoke", json={"key": "nope"})
                response, statements = await counted(runtime, unknown)
                assert response.status_code == 404
                assert len(statements) == 1

    asyncio.run(body())
