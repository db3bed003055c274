"""Error bodies the hosted product's SDKs read: a top-level ``message`` beside ``error``.

The SDKs map some error statuses (a 401 of any call; a 404 of a dataset or an
evaluator; a deployment's 400) to typed errors whose model requires ``{"message": str}``;
without it they raise a validation error instead of the API's error. relaygate's errors
stay OpenAI-shaped (``{"error": {...}}``); under the SDK-facing paths this ASGI
middleware copies ``error.message`` to the top of every JSON error body, whoever raised
it: admission's 401/403, a route's 404, a validation 400. Other bodies pass untouched.
"""

from __future__ import annotations

from relaygate.errors import with_top_level_message
from relaygate.types import ASGIApp, Message, Receive, Scope, Send

# The /v2 paths the hosted product's SDKs call (relaygate's other /v2 APIs are its own).
SDK_PREFIXES = ("/v2/deployments", "/v2/datasets", "/v2/evaluators")


def _is_json(start: Message) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"application/json")
        for name, value in start.get("headers", ())
    )


async def _send_whole(send: Send, start: Message, body: bytes) -> None:
    headers = [(name, value) for name, value in start.get("headers", ()) if name.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class SdkErrorMessages:
    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = SDK_PREFIXES) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # an error's start, sent once its body is whole
        parts: list[bytes] = []

        async def relay(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] >= 400 and _is_json(message):
                held = message
            elif held is not None and message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _send_whole(send, held, with_top_level_message(b"".join(parts)))
            else:
                await send(message)

        await self.app(scope, receive, relay)
