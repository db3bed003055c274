"""A minimal HTTP/1.1 client over asyncio streams: keep-alive, content-length and chunked bodies.

Small on purpose: it is the fallback load generator (when wrk is missing) and the stream
time-to-first-byte probe, both of which need to see bytes the moment they arrive.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

MAX_HEAD = 64 * 1024


class HTTPError(Exception):
    """The server answered something this client cannot read."""


@dataclass
class Timed:
    status: int
    body: bytes
    first_byte: float  # seconds from sending the request to the first body byte
    total: float  # seconds from sending the request to the end of the body


def build_request(host: str, port: int, path: str, body: bytes, authorization: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: {authorization}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes]]:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEAD:
        raise HTTPError("response head too large")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise HTTPError(f"bad status line {lines[0]!r}")
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_chunked(reader: asyncio.StreamReader, started: float) -> tuple[bytes, float]:
    body = bytearray()
    first = 0.0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers expected: the blank line that ends the body
            return bytes(body), first
        chunk = await reader.readexactly(size + 2)
        if not first:
            first = time.perf_counter() - started
        body += chunk[:-2]


async def request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw_request: bytes) -> Timed:
    """Sends one request on a kept-alive connection and reads the whole answer, timing its first byte."""
    started = time.perf_counter()
    writer.write(raw_request)
    status, headers = await _read_head(reader)
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body, first = await _read_chunked(reader, started)
    elif b"content-length" in headers:
        length = int(headers[b"content-length"])
        body = await reader.readexactly(length) if length else b""
        first = time.perf_counter() - started
    else:
        raise HTTPError(
            "answer without content-length or chunked encoding (cannot keep the connection alive)"
        )
    if headers.get(b"connection", b"").lower() == b"close":
        raise HTTPError("the server closed the kept-alive connection")
    return Timed(status, body, first or time.perf_counter() - started, time.perf_counter() - started)
