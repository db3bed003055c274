"""Validation before save: is the upstream reachable, does it take the key, does it serve
the model as the claimed type?

Each check's outcome is reported, in order, to an optional listener as it completes
(the Studio shows them live) and collected in a ``ProbeReport``. A probe only probes:
short timeouts, a cap on what it reads, the cheapest call that proves the model type,
and upstream errors quoted as status plus a truncated ``error.message``, never a raw body.
"""

from __future__ import annotations

import asyncio
import io
import time
import wave
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from relaygate.upstream.claims import ClaimChecks, Form, Outcome, check_claims
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


def _silence_wav() -> bytes:
    """A tenth of a second of silence, the smallest honest transcription input."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 800)
    return buffer.getvalue()


def _full_call(model_type: str, model_id: str) -> tuple[str, dict[str, Any] | Form] | None:
    """The real (paid) call for the types checked by listing only, when ``full_probe`` asks."""
    if model_type == "image":
        return "/images/generations", {"model": model_id, "prompt": "a single dot", "n": 1}
    if model_type == "stt":
        audio = ("silence.wav", "audio/wav", _silence_wav())
        return "/audio/transcriptions", Form.build({"model": model_id}, {"file": audio})
    return None


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
    verified: dict[str, bool] = field(default_factory=dict)  # capability -> the probe's verdict

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
        self, method: str, url: str, api_key: str, payload: dict[str, Any] | Form | None
    ) -> tuple[int, bytes, float]:
        headers = [("authorization", f"Bearer {api_key}"), ("accept", "application/json")]
        body = None
        if isinstance(payload, Form):
            headers.append(("content-type", payload.content_type))
            body = payload.body
        elif payload is not None:
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
        *,
        claims: Mapping[str, bool] | None = None,
        full: bool = False,
    ) -> ProbeReport:
        """``claims``: capability flags to test; ``full``: make the paid call listing-only types skip."""
        run = _Run(listener)
        base = base_url.rstrip("/")
        try:
            async with asyncio.timeout(self._timeout):
                await self._steps(run, base, api_key, model_id, model_type, full)
        except TimeoutError:
            await run.add(Check("timeout", "failed", f"the probe did not finish within {self._timeout:g} s"))
        if run.report.failed is None:
            await self._claims(run, base, api_key, model_id, model_type, claims or {}, full)
        return run.report

    async def _claims(
        self,
        run: _Run,
        base: str,
        api_key: str,
        model_id: str,
        model_type: str,
        claims: Mapping[str, bool],
        full: bool,
    ) -> None:
        async def call(path: str, payload: dict[str, Any] | Form) -> tuple[int, bytes, float]:
            return await self._call("POST", f"{base}{path}", api_key, payload)

        async def report(name: str, outcome: Outcome, ms: float) -> None:
            await run.add(Check(name, outcome.status, outcome.message, ms))

        checks = ClaimChecks(call, quote_upstream, model_id)
        try:
            async with asyncio.timeout(self._timeout):
                run.report.verified = await check_claims(checks, report, model_type, claims, full)
        except TimeoutError:
            message = f"the capability checks did not finish within {self._timeout:g} s; claims kept as given"
            await run.add(Check("capabilities", "warning", message))

    async def _steps(
        self, run: _Run, base: str, api_key: str, model_id: str, model_type: str, full: bool = False
    ) -> None:
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
        await self._minimal_call(run, base, api_key, model_id, model_type, auth_known=auth_known, full=full)

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
        self,
        run: _Run,
        base: str,
        api_key: str,
        model_id: str,
        model_type: str,
        *,
        auth_known: bool | None,
        full: bool = False,
    ) -> None:
        minimal = _MINIMAL_CALLS.get(model_type)
        request: tuple[str, dict[str, Any] | Form] | None = (
            (minimal[0], {"model": model_id, **minimal[1]})
            if minimal is not None
            else _full_call(model_type, model_id)
            if full
            else None
        )
        if request is None:
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
                    f"{model_type} models are checked by listing only (a real call costs money; "
                    "send full_probe: true to make one)",
                )
            )
            return
        path, payload = request
        try:
            status, body, ms = await self._call("POST", f"{base}{path}", api_key, payload)
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
