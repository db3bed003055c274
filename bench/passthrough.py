"""The bench's bare pass-through: the floor of relaygate's server + client stack on this machine.

A raw ASGI app on uvicorn, with the server settings relaygate uses (uvloop, relaygate's bounded
httptools protocol, no access log, no server header, lifespan on), that forwards every
`POST <path>` to the upstream with pyreqwest, the client relaygate uses. No auth, no model
registry, no usage, no JSON parsing: the body goes out unchanged with the upstream's key, and the
upstream's status, content-type and body come back. Whatever relaygate costs beyond this is
relaygate's own code.

With `--stock` it uses nothing of relaygate's: stock uvicorn (uvloop, httptools, uvicorn's own
protocol, its default settings but for the access log) and a pyreqwest client built with pyreqwest's
defaults but for the same timeouts. The difference between the two is what relaygate's protocol and
client settings cost, which is part of relaygate's own share.

    python -m bench.passthrough --port 8002 --upstream http://127.0.0.1:8001 --api-key sk-bench [--stock]
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from typing import Any

import uvicorn
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import PyreqwestError
from pyreqwest.request import RequestBuilder
from pyreqwest.response import Response

from relaygate.upstream.transport import client_builder

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

STREAM_MARKER = b'"stream":true'  # the bench's bodies are compact JSON
BAD_GATEWAY = b'{"error":{"message":"upstream unreachable","type":"bad_gateway"}}'
JSON = b"application/json"


CONNECT_TIMEOUT, READ_TIMEOUT = 10, 60  # seconds


def build_client(stock: bool) -> Client:
    """Built as relaygate builds its per-origin clients, minus DNS pinning; or with pyreqwest's
    defaults but for the timeouts."""
    if stock:
        builder = ClientBuilder().connect_timeout(timedelta(seconds=CONNECT_TIMEOUT))
        return builder.read_timeout(timedelta(seconds=READ_TIMEOUT)).build()
    return client_builder(CONNECT_TIMEOUT, READ_TIMEOUT, "relaygate-bench-passthrough").build()


async def read_body(receive: Receive) -> bytes:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def _start(status: int, content_type: bytes, length: int | None) -> Message:
    headers = [(b"content-type", content_type)]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http.response.start", "status": status, "headers": headers}


def _content_type(response: Response) -> bytes:
    return (response.headers.get("content-type") or "application/octet-stream").encode()


async def relay_whole(request: RequestBuilder, send: Send) -> None:
    response = await request.build().send()
    body = bytes(await response.bytes())
    await send(_start(response.status, _content_type(response), len(body)))
    await send({"type": "http.response.body", "body": body})


async def relay_stream(request: RequestBuilder, send: Send) -> None:
    async with request.streamed_read_buffer_limit(0).build_streamed() as response:
        await send(_start(response.status, _content_type(response), None))
        reader = response.body_reader
        while (chunk := await reader.read_chunk()) is not None:
            await send({"type": "http.response.body", "body": bytes(chunk), "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def lifespan(receive: Receive, send: Send, clients: list[Client], stock: bool) -> None:
    """One client, built at startup (on the server's loop) and closed at shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            clients.append(build_client(stock))
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for client in clients:
                await client.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


def make_app(upstream: str, api_key: str, stock: bool = False) -> App:
    base = upstream.rstrip("/")
    headers = [("authorization", f"Bearer {api_key}"), ("content-type", "application/json")]
    clients: list[Client] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, clients, stock)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        if scope["method"] != "POST":
            await send(_start(405, JSON, 0))
            await send({"type": "http.response.body", "body": b""})
            return
        request = clients[0].request("POST", base + scope["path"]).headers(headers).body_bytes(body)
        try:
            if STREAM_MARKER in body:
                await relay_stream(request, send)
            else:
                await relay_whole(request, send)
        except PyreqwestError:
            # A clean 502 before the answer started; mid-stream this second start raises and uvicorn
            # closes the connection, so the client sees a cut stream.
            await send(_start(502, JSON, len(BAD_GATEWAY)))
            await send({"type": "http.response.body", "body": BAD_GATEWAY})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:8001")
    parser.add_argument("--api-key", required=True, help="the upstream's key (sent as a bearer token)")
    parser.add_argument(
        "--stock", action="store_true", help="stock uvicorn and pyreqwest, nothing of relaygate's"
    )
    args = parser.parse_args()
    app = make_app(args.upstream, args.api_key, args.stock)
    if args.stock:
        uvicorn.run(app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", access_log=False)
        return
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        # relaygate's own protocol: the same head bounds, one socket write per small response
        http="relaygate.security.http_protocol:BoundedHttpToolsProtocol",
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
