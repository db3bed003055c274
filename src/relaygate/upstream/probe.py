"""Validation before save: is the upstream reachable, does it take the key, does it serve
the model as the claimed type?

Each check's outcome is reported, in order, to an optional listener as it completes
(the Studio shows them live) and collected in a ``ProbeReport``. A probe only probes:
short timeouts, a cap on what it reads, the cheapest call that proves the model type,
and upstream errors quoted as status plus a truncated ``error.message``, never a raw body.
Every check's message is redacted of the key (and of anything key-like) before anyone
sees it: an upstream may quote the key it was sent.
"""

from __future__ import annotations

import asyncio
import io
import time
import wave
from collections.abc import Mapping
from typing import Any

import orjson

from relaygate.security.redaction import redact
from relaygate.upstream.claims import ClaimChecks, Form, Outcome, check_claims
from relaygate.upstream.probe_findings import (
    Answer,
    Check,
    CheckListener,
    ProbeReport,
    article,
    quote_upstream,
    reached,
    unreachable,
    wrong_path,
    wrong_path_message,
)
from relaygate.upstream.transport import Transport, TransportError, UpstreamResponse

MAX_PROBE_BYTES = 1024 * 1024

ProbeRequest = tuple[str, "dict[str, Any] | Form"]  # path, JSON payload or form

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


def _minimal_request(model_type: str, model_id: str, full: bool) -> ProbeRequest | None:
    minimal = _MINIMAL_CALLS.get(model_type)
    if minimal is not None:
        return minimal[0], {"model": model_id, **minimal[1]}
    return _full_call(model_type, model_id) if full else None


class _Run:
    """One probe's state: the report so far, the listener to tell, the secrets no message may show."""

    def __init__(self, listener: CheckListener | None, secrets: tuple[str, ...]) -> None:
        self.report = ProbeReport()
        self._listener = listener
        self._secrets = secrets

    def key_accepted(self, where: str = "") -> Check:
        """The passed authentication check, worded for an upstream that takes no key too."""
        what = "the upstream accepted the API key" if any(self._secrets) else "the upstream needs no API key"
        return Check("authentication", "passed", f"{what}{where}")

    async def add(self, check: Check) -> Check:
        check.message = redact(check.message, self._secrets)
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
        headers = [("accept", "application/json")]
        if api_key:  # an upstream that takes no key (Ollama, a local vLLM) gets no header
            headers.append(("authorization", f"Bearer {api_key}"))
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
        run = _Run(listener, (api_key,))
        base = base_url.rstrip("/")
        try:
            async with asyncio.timeout(self._timeout):
                await self._steps(run, base, api_key, model_id, model_type, full)
        except TimeoutError:
            await run.add(self._timed_out(run, base))
        if run.report.failed is None:
            await self._claims(run, base, api_key, model_id, model_type, claims or {}, full)
        return run.report

    async def health_check(self, base_url: str, api_key: str, model_id: str, model_type: str) -> ProbeReport:
        """A periodic health check: ``GET /models``, then the type's cheapest real call (a
        one-token chat, say); no capability checks."""
        run = _Run(None, (api_key,))
        try:
            async with asyncio.timeout(self._timeout):
                await self._steps(run, base_url.rstrip("/"), api_key, model_id, model_type)
        except TimeoutError:
            await run.add(self._timed_out(run, base_url.rstrip("/")))
        return run.report

    async def check_access(self, base_url: str, api_key: str) -> ProbeReport:
        """Connectivity and the key only, by ``GET /models``: no model named, no paid call."""
        run = _Run(None, (api_key,))
        base = base_url.rstrip("/")
        try:
            async with asyncio.timeout(self._timeout):
                listing = await self._listing(run, base, api_key)
                if listing is not None:
                    status, body, ms = listing
                    await run.add(reached(status, ms))
                    await self._judge_listing(run, status, body, model_id=None)
        except TimeoutError:
            await run.add(self._timed_out(run, base))
        return run.report

    def _timed_out(self, run: _Run, base: str) -> Check:
        """The failed check of the step that was waiting: connectivity until the upstream answered
        ``GET /models`` (a hanging upstream: the base URL's fault), else the test call."""
        limit = f"{self._timeout:g} s"
        if not any(check.name == "connectivity" for check in run.report.checks):
            return Check(
                "connectivity",
                "failed",
                f"timed out: {base} accepted the connection but did not answer GET /models within {limit} "
                "(is the server overloaded or stuck, or is this the right address?)",
            )
        return Check("capability", "failed", f"timed out: the test call got no answer within {limit}")

    async def _listing(self, run: _Run, base: str, api_key: str) -> tuple[int, bytes, float] | None:
        """``GET /models``: its status, body and time, or None with a failed connectivity check."""
        try:
            return await self._call("GET", f"{base}/models", api_key, None)
        except TransportError as exc:
            await run.add(Check("connectivity", "failed", unreachable(base, exc)))
            return None

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
        listing = await self._listing(run, base, api_key)
        if listing is None:
            return
        status, body, ms = listing
        request = _minimal_request(model_type, model_id, full)
        early: Answer | None = None
        if status == 404 and request is not None:
            # No listing: the minimal call tells a server without /models from a wrong path.
            early = await self._try_call(base, api_key, request)
            if wrong_path(early, model_id):
                await run.add(Check("connectivity", "failed", wrong_path_message(base, request[0])))
                return
        await run.add(reached(status, ms))
        auth_known = await self._judge_listing(run, status, body, model_id)
        if auth_known is False:
            return
        if request is None:
            await self._listing_only(run, model_type, auth_known)
            return
        answer = early if early is not None else await self._try_call(base, api_key, request)
        await self._judge_minimal(run, request[0], model_type, answer, auth_known=auth_known)

    async def _try_call(self, base: str, api_key: str, request: ProbeRequest) -> Answer:
        path, payload = request
        try:
            return await self._call("POST", f"{base}{path}", api_key, payload)
        except TransportError as exc:
            return exc

    async def _judge_listing(self, run: _Run, status: int, body: bytes, model_id: str | None) -> bool | None:
        """True: key accepted; False: key rejected (probe over); None: cannot tell yet."""
        if status in (401, 403):
            await run.add(key_rejected(status, body))
            return False
        if not 200 <= status < 300:
            return None
        await run.add(run.key_accepted())
        listed = _listed_ids(body)
        run.report.listed_models = listed
        if listed is not None and model_id is not None and model_id not in listed:
            shown = ", ".join(listed[:10]) + (" …" if len(listed) > 10 else "")
            await run.add(
                Check(
                    "model", "warning", f"model {model_id!r} is not in the upstream's /models list ({shown})"
                )
            )
        return True

    async def _listing_only(self, run: _Run, model_type: str, auth_known: bool | None) -> None:
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

    async def _judge_minimal(
        self, run: _Run, path: str, model_type: str, answer: Answer, *, auth_known: bool | None
    ) -> None:
        if isinstance(answer, TransportError):
            await run.add(Check("capability", "failed", f"POST {path} failed: {answer}"))
            return
        status, body, ms = answer
        if status in (401, 403):
            await run.add(key_rejected(status, body))
            return
        if auth_known is None:
            await run.add(run.key_accepted(f" on POST {path}"))
        as_type = f"as {article(model_type)} {model_type} model"
        if 200 <= status < 300:
            await run.add(Check("capability", "passed", f"POST {path} answered HTTP {status} {as_type}", ms))
        else:
            await run.add(
                Check("capability", "failed", f"POST {path} {as_type}: {quote_upstream(status, body)}", ms)
            )


def key_rejected(status: int, body: bytes) -> Check:
    """The failed authentication check of a 401 or 403, with the upstream's own words."""
    return Check(
        "authentication", "failed", f"the upstream rejected the API key ({quote_upstream(status, body)})"
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
