"""Browser-facing defences of the control plane: security headers and opt-in CORS.

Every control-plane answer (``/v2``, ``/health``, ``/studio``, ``/docs``) carries
``nosniff``, ``Referrer-Policy: no-referrer`` and a CSP that forbids framing. JSON
answers get ``default-src 'none'`` (nothing in them may run); the Studio sets its own,
stricter-for-a-page policy (``studio/routes.py``) and headers a response already has
are never replaced, so the two cannot fight. ``/docs`` (Swagger UI, an inline script
and a CDN) only gets the framing ban.

CORS is off unless ``RELAYGATE_CORS_ORIGINS`` lists origins (comma-separated, exact
``scheme://host[:port]``, or ``*``); then those origins may call both planes from a
browser. Credentials are bearer keys, never cookies, so a page can only use a key its
user gave it.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

RawHeader = tuple[bytes, bytes]

_COMMON: tuple[RawHeader, ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
API_HEADERS = (*_COMMON, (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))
DOCS_HEADERS = (*_COMMON, (b"content-security-policy", b"frame-ancestors 'none'"))
DOCS_PATHS = ("/docs", "/redoc")
EXPOSED = ("x-request-id", "x-relaygate-model", "x-relaygate-provider", "x-relaygate-attempts",
           "x-relaygate-fallback", "x-relaygate-cache", "x-relaygate-overhead-ms")  # fmt: skip


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = DOCS_HEADERS if path.startswith(DOCS_PATHS) else API_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in extra if header[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_cors(app: ASGIApp, origins: Sequence[str]) -> ASGIApp:
    """``app`` itself when no origin is configured: a request pays nothing for CORS then."""
    if not origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["authorization", "content-type", "accept", "x-request-id"],
        expose_headers=list(EXPOSED),
        max_age=600,
    )
