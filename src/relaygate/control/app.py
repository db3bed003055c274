"""The control plane's FastAPI application and its OpenAI-shaped error handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from relaygate import __version__
from relaygate.errors import RelaygateError, ServiceUnavailable
from relaygate.observability.metrics import Metrics
from relaygate.runtime import Runtime
from relaygate.store.database import is_unavailable, unavailable_errors
from relaygate.studio import studio_routes

from . import (
    alerts_api,
    audit_api,
    budgets_api,
    dataset_transfers_api,
    datasets_api,
    deployments_api,
    evaluators_api,
    experiments_api,
    health,
    keys_api,
    logs_api,
    models_api,
    search_api,
    spend_api,
    usage_api,
)
from .admission import ControlAdmission
from .audit_trail import AuditTrail
from .metrics_api import metrics_router
from .sdk_errors import SdkErrorMessages
from .security_headers import SecurityHeaders

log = logging.getLogger("relaygate.control")


def _error(
    status: int, message: str, error_type: str, *, param: str | None = None, code: str | None = None
) -> JSONResponse:
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


async def _relaygate_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RelaygateError):  # registered for RelaygateError only
        raise exc
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def _location(loc: tuple[Any, ...]) -> str:
    """The field's dotted path (``messages.0.role``); its first part says where it came from (body, query)."""
    return ".".join(str(part) for part in loc[1:])


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        raise exc
    problems = exc.errors()
    # Quote where and what, never the submitted value: it may be a secret.
    first: dict[str, Any] = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":  # its loc ends in a character offset, not a field
        reason = first.get("ctx", {}).get("error", "JSON decode error")
        message = f"The request body is not valid JSON ({reason})."
        return _error(400, message, "invalid_request_error", code="invalid_json")
    where = _location(tuple(first.get("loc", ())))
    message = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    if len(problems) > 1:
        others = ", ".join(_location(tuple(p.get("loc", ()))) or "body" for p in problems[1:6])
        message += f" (and {len(problems) - 1} more: {others})"
    return _error(400, message, "invalid_request_error", param=where or None, code="invalid_value")


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
    error_type = "invalid_request_error" if exc.status_code < 500 else "api_error"
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
    response = _error(exc.status_code, str(exc.detail), error_type, code=code)
    response.headers.update(exc.headers or {})  # e.g. the Allow of a 405
    return response


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_unavailable(exc):
        return await _unexpected(request, exc)
    log.error("store unavailable: %s", type(exc).__name__)
    error = ServiceUnavailable(
        "The store (database) is unreachable, so nothing was read or changed. Routing goes on; "
        "try this again shortly.",
        code="store_unavailable",
    )
    return JSONResponse(error.body(), status_code=error.status)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error in the control plane: %s", type(exc).__name__, exc_info=exc)
    return _error(500, "Internal error; it has been logged.", "api_error", code="internal_error")


def build_control_app(runtime: Runtime, metrics: Metrics) -> FastAPI:
    """The /v2 API, /health, /metrics (rendering ``metrics``) and Studio; every route reads
    the components it uses from ``runtime`` (``auth.runtime_of``)."""
    app = FastAPI(
        title="relaygate",
        version=__version__,
        summary="Self-hosted AI Router: OpenAI-compatible /v3/router and the /v2 management API.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    # The first added is the innermost: refusals of admission get the security headers too.
    app.add_middleware(AuditTrail, engine=runtime.engine)  # inside admission: the caller is known
    app.add_middleware(ControlAdmission, runtime=runtime, max_body=runtime.settings.max_control_body_bytes)
    app.add_middleware(SdkErrorMessages)  # outside admission: its refusals get the SDKs' "message" too
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(RelaygateError, _relaygate_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for error_class in unavailable_errors(runtime.engine):
        app.add_exception_handler(error_class, _store_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(health.router)
    app.include_router(models_api.router)
    app.include_router(keys_api.router)
    app.include_router(usage_api.router)
    app.include_router(logs_api.router)
    app.include_router(budgets_api.router)
    app.include_router(spend_api.router)
    app.include_router(search_api.router)
    app.include_router(deployments_api.router)
    app.include_router(datasets_api.router)
    app.include_router(dataset_transfers_api.router)
    app.include_router(evaluators_api.router)
    app.include_router(experiments_api.router)
    app.include_router(audit_api.router)
    app.include_router(alerts_api.router)
    app.include_router(metrics_router(metrics))
    app.router.routes.extend(studio_routes())
    return app
