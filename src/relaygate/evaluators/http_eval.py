"""A remote scorer: relaygate POSTs ``{input, output, expected}`` to a URL the admin set and
reads back ``{score, passed?, reason?}``.

The URL obeys the upstreams' SSRF rules (``upstream/ssrf.py``: checked when the
evaluator is saved, and again on the address each call connects to), the call goes out
through the upstream transport (no redirects, pinned address), and both its time
(``timeout_ms``) and its answer's size are bounded. Header values are the admin's
secrets (a bearer token, say): sealed at rest (``header_secrets.py``), sent, never shown
back (``masked_headers``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from relaygate.errors import UpstreamRefused
from relaygate.upstream.transport import Transport, TransportError

from .fields import Fields, InvalidEvaluator, is_number
from .header_secrets import HeaderValue, hint
from .score import Sample, Score

MAX_REPLY_BYTES = 64 * 1024
MAX_HEADERS = 32
DEFAULT_TIMEOUT_MS = 10_000
MAX_TIMEOUT_MS = 120_000
MAX_REASON = 2000
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
_RESERVED = frozenset({"host", "content-length", "content-type", "transfer-encoding", "connection"})


class HttpEvalError(Exception):
    """The remote scorer could not be reached, or did not answer a score."""


def _headers(fields: Fields) -> dict[str, str]:
    value = fields.values.get("headers")
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_HEADERS:
        raise fields.invalid(
            "headers", f"must be an object of at most {MAX_HEADERS} header names and values."
        )
    for name, text in value.items():
        where = fields.path(f"headers.{name}")
        if not _TOKEN.match(name) or name.lower() in _RESERVED:
            raise InvalidEvaluator(
                where, "is not a header relaygate sends for you (a token, not Host or Content-*)."
            )
        if not isinstance(text, str) or len(text) > 4096 or "\r" in text or "\n" in text:
            raise InvalidEvaluator(where, "must be one line of text of at most 4096 characters.")
    return dict(value)


def configure(fields: Fields) -> dict[str, Any]:
    """The config of an ``http_eval`` body; the URL's address is checked by the caller (SSRF)."""
    fields.choice("method", ("POST",), "POST")
    payload = fields.values.get("payload") or {}
    if not isinstance(payload, dict):
        raise fields.invalid("payload", "must be an object of extra fields posted with the sample.")
    return {
        "url": fields.text("url", max_length=2048),
        "headers": _headers(fields),
        "payload": payload,
        "timeout_ms": fields.whole("timeout_ms", 100, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS),
    }


def masked_headers(headers: Mapping[str, HeaderValue]) -> dict[str, str]:
    return {name: hint(value) for name, value in headers.items()}


def kept_headers(sent: Mapping[str, str], stored: Mapping[str, HeaderValue]) -> dict[str, HeaderValue]:
    """An update's headers, where a value sent back as shown (masked) keeps the stored one."""
    return {
        name: stored[name] if name in stored and value == hint(stored[name]) else value
        for name, value in sent.items()
    }


def read_reply(body: bytes) -> Score:
    try:
        reply = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HttpEvalError("the evaluator's answer is not JSON") from None
    if not isinstance(reply, dict):
        raise HttpEvalError("the evaluator's answer is not a JSON object {score, passed?, reason?}")
    score, passed, reason = reply.get("score"), reply.get("passed"), reply.get("reason")
    if isinstance(score, bool):
        passed = score if passed is None else passed
        score = 1.0 if score else 0.0
    if not is_number(score):
        raise HttpEvalError("the evaluator's answer has no 'score' number (or true/false)")
    if passed is not None and not isinstance(passed, bool):
        raise HttpEvalError("the evaluator's 'passed' is not true or false")
    if reason is not None and not isinstance(reason, str):
        raise HttpEvalError("the evaluator's 'reason' is not a string")
    return Score(float(score), passed, reason[:MAX_REASON] if reason else None)


async def _read_bounded(response: Any) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in response.chunks():
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise HttpEvalError(f"the evaluator's answer is larger than {MAX_REPLY_BYTES} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def call(
    transport: Transport, config: Mapping[str, Any], headers: Mapping[str, str], sample: Sample
) -> Score:
    """POST the sample with ``headers`` (the config's, opened) and read the score;
    ``HttpEvalError`` when that fails."""
    payload = {
        **config["payload"],
        "input": sample.input,
        "output": sample.output,
        "expected": sample.expected,
    }
    sent = [
        *headers.items(),
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ]
    try:
        response = await transport.send(
            "POST",
            config["url"],
            sent,
            orjson.dumps(payload),
            stream=True,
            total_timeout=config["timeout_ms"] / 1000,
        )
        try:
            if not 200 <= response.status < 300:
                raise HttpEvalError(f"the evaluator answered HTTP {response.status}")
            body = await _read_bounded(response)
        finally:
            await response.aclose()
    except TransportError as exc:
        raise HttpEvalError(f"the evaluator could not be reached: {exc}") from None
    except UpstreamRefused as exc:
        raise HttpEvalError(f"the evaluator's address is not allowed: {exc.message}") from None
    return read_reply(body)
