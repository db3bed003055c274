"""Liveness and readiness for load balancers and Kubernetes probes.

``/health`` (liveness) answers 200 while the process runs, draining included, so an
orchestrator never kills a process that is finishing its streams. ``/health/ready``
answers 503 while the process drains after SIGTERM or when its schema does not match
the store's. A store or Redis outage is reported there but does not fail readiness:
it hits every process alike, and the data plane keeps routing from the catalog and the
in-process fallbacks, so taking all of them out of rotation would turn a degraded
fleet into a dead one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from relaygate.runtime import Runtime
from relaygate.store import database, migrate

from .auth import runtime_of

router = APIRouter(tags=["health"])

_STORE_CHECK_TIMEOUT_S = 2.0


def _redis_state(runtime: Runtime) -> dict[str, Any]:
    link = runtime.redis
    if not link.configured:
        return {"state": "not configured", "fallback": "in-process"}
    return {
        "state": "up" if link.up else "down",
        "fallback": "in-process" if not link.up else None,
        "outages": link.outages,
        "catalog": runtime.catalog_sync.describe(),
    }


@router.get("/health", summary="Liveness: the process answers")
async def health(request: Request) -> dict[str, Any]:
    runtime = runtime_of(request)
    return {
        "status": "draining" if runtime.drain.draining else "ok",
        "catalog": runtime.catalog.describe(),
        "store": "ok" if runtime.catalog.healthy and runtime.recorder.store_healthy else "degraded",
        "redis": _redis_state(runtime),
        "usage_queue": {"depth": runtime.recorder.depth, "dropped": runtime.recorder.dropped},
    }


async def _store_checks(runtime: Runtime) -> dict[str, str]:
    await database.ping(runtime.engine)
    current = await migrate.current_revision(runtime.engine)
    head = migrate.head_revision()
    return {"store": "ok", "migrations": "ok" if current == head else f"at {current}, needs {head}"}


@router.get("/health/ready", summary="Readiness: not draining, schema current; store and Redis state")
async def ready(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    checks = {"process": "draining" if runtime.drain.draining or not runtime.ready else "ok"}
    try:
        checks.update(await asyncio.wait_for(_store_checks(runtime), _STORE_CHECK_TIMEOUT_S))
    except Exception as exc:  # unreachable store: reported, routing continues from the catalog
        checks["store"] = f"unavailable ({type(exc).__name__}); routing from the catalog"
        checks["migrations"] = "unknown"
    redis = _redis_state(runtime)["state"]
    checks["redis"] = {"up": "ok", "down": "down; in-process fallbacks"}.get(redis, redis)
    is_ready = checks["process"] == "ok" and checks["migrations"] in ("ok", "unknown")
    degraded = checks["store"] != "ok" or redis == "down"
    status = "not ready" if not is_ready else "degraded" if degraded else "ready"
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if is_ready else 503)
