"""Binary answers (``/audio/speech``): the upstream's bytes, streamed back as they arrive.

The client gets the upstream's status, content type and (when it sent one) length; the
bytes are never buffered whole. Transcriptions need nothing of their own: every
``response_format`` (json, text, srt, vtt, verbose_json) goes back as the upstream sent it
and ``stream=true`` events pass through the ordinary SSE relay.
"""

from __future__ import annotations

from relaygate.router.answers import Answer
from relaygate.router.asgi import RawHeaders
from relaygate.types import Send
from relaygate.upstream.transport import UpstreamResponse


class BinaryAnswer(Answer):
    binary = True


BINARY = BinaryAnswer()


def binary_headers(response: UpstreamResponse) -> RawHeaders:
    """The upstream's content type and length, the only headers of its answer we repeat."""
    headers: RawHeaders = []
    for key, value in response.headers:
        name = key.lower()
        if name in ("content-type", "content-length"):
            headers.append((name.encode(), value.encode()))
    if not any(name == b"content-type" for name, _ in headers):
        headers.append((b"content-type", b"application/octet-stream"))
    return headers


async def relay_bytes(response: UpstreamResponse, send: Send) -> None:
    """Send the upstream's body on as it arrives (the caller sent the response start).

    A ``TransportError`` mid-way comes out of here with the response unfinished, so the
    client sees a cut-off answer, never a short one that looks whole.
    """
    async for chunk in response.chunks():
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
