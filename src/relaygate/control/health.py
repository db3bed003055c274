"""Liveness and readiness for load balancers and Kubernetes probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from relaygate.store import migrate

from .auth import runtime_of

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
async def health(request: Request) -> dict[str, Any]:
    runtime = runtime_of(request)
    return {
        "status": "ok",
        "catalog": runtime.catalog.describe(),
        "store": "ok" if runtime.catalog.healthy and runtime.recorder.store_healthy else "degraded",
        "usage_queue": {"depth": runtime.recorder.depth, "dropped": runtime.recorder.dropped},
    }


@router.get("/health/ready", summary="Readiness: store reachable, schema current, not shutting down")
async def ready(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    checks: dict[str, str] = {"process": "ok" if runtime.ready else "stopping"}
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["store"] = "ok"
        current = await migrate.current_revision(runtime.engine)
        checks["migrations"] = "ok" if current == migrate.head_revision() else f"behind ({current})"
    except Exception as exc:
        checks["store"] = f"unavailable: {type(exc).__name__}"
    ok = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503
    )
