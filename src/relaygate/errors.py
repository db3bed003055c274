"""Every failure relaygate itself reports, as one hierarchy of OpenAI-shaped errors.

    RelaygateError                       (500 api_error)
     +-- InvalidRequest                  (400 invalid_request_error)
     |    +-- ValidationFailed           (400, carries the probe report)
     |    +-- UpstreamRefused            (400, SSRF guard said no)
     +-- AuthenticationFailed            (401 authentication_error)
     +-- PermissionDenied                (403 permission_error)
     +-- NotFound                        (404 invalid_request_error)
     +-- MethodNotAllowed                (405 invalid_request_error, with Allow)
     +-- Conflict                        (409 invalid_request_error)
     +-- PayloadTooLarge                 (413 invalid_request_error)
     +-- RateLimited                     (429 rate_limit_error)
     +-- UpstreamUnavailable             (502 api_error)
     +-- UpstreamTimeout                 (504 api_error)
     +-- ServiceUnavailable              (503 api_error)

Each renders as ``{"error": {"message", "type", "param", "code"}}``, the body OpenAI's
SDKs parse. Messages never carry secrets: callers pass only what a client may see.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson


class RelaygateError(Exception):
    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }
        body.update(self.extra)
        return body

    def body_bytes(self) -> bytes:
        return orjson.dumps(self.body())


class InvalidRequest(RelaygateError):
    status = 400
    error_type = "invalid_request_error"


class ValidationFailed(InvalidRequest):
    default_code = "validation_failed"


class UpstreamRefused(InvalidRequest):
    default_code = "upstream_not_allowed"


class AuthenticationFailed(RelaygateError):
    status = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(RelaygateError):
    status = 403
    error_type = "permission_error"
    default_code = "insufficient_permissions"


class NotFound(RelaygateError):
    status = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class MethodNotAllowed(RelaygateError):
    status = 405
    error_type = "invalid_request_error"
    default_code = "method_not_allowed"

    def __init__(self, method: str, path: str, allowed: str) -> None:
        super().__init__(
            f"Invalid method for URL ({method} {path}): it takes {allowed}.", headers={"Allow": allowed}
        )


class Conflict(RelaygateError):
    status = 409
    error_type = "invalid_request_error"
    default_code = "conflict"


class PayloadTooLarge(RelaygateError):
    status = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class RateLimited(RelaygateError):
    status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class UpstreamUnavailable(RelaygateError):
    status = 502
    default_code = "upstream_unreachable"


class ServiceUnavailable(RelaygateError):
    status = 503
    default_code = "service_unavailable"


class UpstreamTimeout(RelaygateError):
    status = 504
    default_code = "upstream_timeout"


def error_body(status: int, message: str, error_type: str, code: str | None = None) -> bytes:
    """An OpenAI-shaped body for errors raised outside our hierarchy (framework, server)."""
    return orjson.dumps({"error": {"message": message, "type": error_type, "param": None, "code": code}})


def with_top_level_message(body: bytes, *, bare_string: bool = False) -> bytes:
    """An OpenAI error body with its ``error.message`` also at the top level, as the hosted
    product's SDKs read it (``{"message": ...}``); ``body`` itself when it is not such an
    error or has a top-level message already. ``bare_string``: an ``error`` that is a plain
    string (some upstreams answer so) is the message too."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    error = parsed.get("error") if isinstance(parsed, dict) else None
    message = error.get("message") if isinstance(error, dict) else error if bare_string else None
    if not isinstance(message, str) or "message" in parsed:
        return body
    return orjson.dumps({"message": message, **parsed})
