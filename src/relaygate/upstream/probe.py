"""Validation before save: is the upstream reachable, does it take the key, does it serve
the model as the claimed type?

Each check's outcome is reported, in order, to an optional listener as it completes
(the Studio shows them live) and collected in a ``ProbeReport``. A probe only probes:
short timeouts, a cap on what it reads, the cheapest call that proves the model type,
and upstream errors quoted as status plus a truncated ``error.message``, never a raw body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from relaygate.upstream.transport import TimedOut, Transport, TransportError, UpstreamResponse

MAX_PROBE_BYTES = 1024 * 1024
MAX_QUOTE_CHARS = 200

CheckListener = Callable[["Check"], Awaitable[None]]

# The cheapest real call that proves a model serves its type; None = listing only.
_MINIMAL_CALLS: dict[str, tuple[str, dict[str, Any]] | None] = {
    "chat": ("/chat/completions", {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}),
    "completion": ("/completions", {"prompt": "ping", "max_tokens": 1}),
    "embedding": ("/embeddings", {"input": "ping"}),
    "rerank": ("/rerank", {"query": "ping", "documents": ["pong"], "top_n": 1}),
    "moderation": ("/moderations", {"input": "ping"}),
    "tts": ("/audio/speech", {"input": "hi", "voice": "alloy"}),
    "image": None,
    "stt": None,
}


@dataclass
class Check:
    name: str
    status: str  # passed | failed | warning | skipped
    message: str
    latency_ms: float = 0.0


@dataclass
class ProbeReport:
    checks: list[Check] = field(default_factory=list)
    validated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    listed_models: list[str] | None = None

    @property
    def failed(self) -> Check | None:
        return next((check for check in self.checks if check.status == "failed"), None)

    @property
    def status(self) -> str:
        if self.failed is not None:
            return "failed"
        return "warning" if any(check.status == "warning" for check in self.checks) else "passed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "validated_at": self.validated_at,
            "checks": [asdict(check) for check in self.checks],
        }


def quote_upstream(status: int, body: bytes) -> str:
    """``HTTP 401: <error.message>``: status plus at most a truncated OpenAI-style message."""
    message = ""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        candidate = error.get("message") if isinstance(error, dict) else error
        if not isinstance(candidate, str):
            candidate = parsed.get("message") or parsed.get("detail")
        if isinstance(candidate, str):
            message = candidate.strip()
    if len(message) > MAX_QUOTE_CHARS:
        message = message[:MAX_QUOTE_CHARS] + "…"
    return f"HTTP {status}: {message}" if message else f"HTTP {status}"


async def _read_capped(response: UpstreamResponse) -> bytes:
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in response.chunks():
            size += len(chunk)
            if size > MAX_PROBE_BYTES:
                break
            parts.append(chunk)
    finally:
        await response.aclose()
    return b"".join(parts)


class _Run:
    """One probe's state: the report so far and the listener to tell."""

    def __init__(self, listener: CheckListener | None) -> None:
        self.report = ProbeReport()
        self._listener = listener

    async def add(self, check: Check) -> Check:
        self.report.checks.append(check)
        if self._listener is not None:
            await self._listener(check)
        return check


class Prober:
    def __init__(self, transport: Transport, timeout: float) -> None:
        self._transport = transport
        self._timeout = timeout

    async def _call(
        self, method: str, url: str, api_key: str, payload: dict[str, Any] | None
    ) -> tuple[int, bytes, float]:
        headers = [("authorization", f"Bearer {api_key}"), ("accept", "application/json")]
        body = None
        if payload is not None:
            headers.append(("content-type", "application/json"))
            body = orjson.dumps(payload)
        started = time.perf_counter()
        response = await self._transport.send(
            method, url, headers, body, stream=True, total_timeout=self._timeout
        )
        data = await _read_capped(response)
        return response.status, data, (time.perf_counter() - started) * 1000

    async def probe(
        self,
        base_url: str,
        api_key: str,
        model_id: str,
        model_type: str,
        listener: CheckListener | None = None,
    ) -> ProbeReport:
        run = _Run(listener)
        try:
            async with asyncio.timeout(self._timeout):
                await self._steps(run, base_url.rstrip("/"), api_key, model_id, model_type)
        except TimeoutError:
            await run.add(Check("timeout", "failed", f"the probe did not finish within {self._timeout:g} s"))
        return run.report

    async def _steps(self, run: _Run, base: str, api_key: str, model_id: str, model_type: str) -> None:
        try:
            status, body, ms = await self._call("GET", f"{base}/models", api_key, None)
        except TransportError as exc:
            verb = "timed out" if isinstance(exc, TimedOut) else "failed"
            await run.add(Check("connectivity", "failed", f"connecting to {base} {verb}: {exc}"))
            return
        await run.add(Check("connectivity", "passed", f"GET /models answered HTTP {status}", ms))
        auth_known = await self._judge_listing(run, status, body, model_id)
        if auth_known is False:
            return
        await self._minimal_call(run, base, api_key, model_id, model_type, auth_known=auth_known)

    async def _judge_listing(self, run: _Run, status: int, body: bytes, model_id: str) -> bool | None:
        """True: key accepted; False: key rejected (probe over); None: cannot tell yet."""
        if status in (401, 403):
            await run.add(
                Check(
                    "authentication",
                    "failed",
                    f"the upstream rejected the API key ({quote_upstream(status, body)})",
                )
            )
            return False
        if not 200 <= status < 300:
            return None
        await run.add(Check("authentication", "passed", "the upstream accepted the API key"))
        listed = _listed_ids(body)
        run.report.listed_models = listed
        if listed is not None and model_id not in listed:
            shown = ", ".join(listed[:10]) + (" …" if len(listed) > 10 else "")
            await run.add(
                Check(
                    "model", "warning", f"model {model_id!r} is not in the upstream's /models list ({shown})"
                )
            )
        return True

    async def _minimal_call(
        self, run: _Run, base: str, api_key: str, model_id: str, model_type: str, *, auth_known: bool | None
    ) -> None:
        minimal = _MINIMAL_CALLS.get(model_type)
        if minimal is None:
            if auth_known is None:
                await run.add(
                    Check(
                        "authentication",
                        "warning",
                        "could not verify the key: the upstream has no /models listing",
                    )
                )
            await run.add(
                Check(
                    "capability",
                    "skipped",
                    f"{model_type} models are checked by listing only (a real call costs money)",
                )
            )
            return
        path, payload = minimal
        try:
            status, body, ms = await self._call(
                "POST", f"{base}{path}", api_key, {"model": model_id, **payload}
            )
        except TransportError as exc:
            await run.add(Check("capability", "failed", f"POST {path} failed: {exc}"))
            return
        if status in (401, 403):
            await run.add(
                Check(
                    "authentication",
                    "failed",
                    f"the upstream rejected the API key ({quote_upstream(status, body)})",
                )
            )
            return
        if auth_known is None:
            await run.add(
                Check("authentication", "passed", f"the upstream accepted the API key on POST {path}")
            )
        if 200 <= status < 300:
            await run.add(
                Check(
                    "capability", "passed", f"POST {path} answered HTTP {status} as a {model_type} model", ms
                )
            )
        else:
            await run.add(
                Check(
                    "capability",
                    "failed",
                    f"POST {path} as a {model_type} model: {quote_upstream(status, body)}",
                    ms,
                )
            )


def _listed_ids(body: bytes) -> list[str] | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    data = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(data, list):
        return None
    return [item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)]
