"""What a probe found, and how it says so: checks, the report, and messages that point at the fix.

Every message here may quote an upstream; ``probe._Run`` redacts the key from each before
anyone sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from relaygate.upstream.transport import ConnectFailed, TimedOut, TransportError

MAX_QUOTE_CHARS = 200

CheckListener = Callable[["Check"], Awaitable[None]]
Answer = tuple[int, bytes, float] | TransportError  # status, body, latency ms; or why there was none


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


def article(model_type: str) -> str:
    return "an" if model_type[:1] in ("a", "e", "i", "o", "u") else "a"


def reached(status: int, ms: float) -> Check:
    return Check("connectivity", "passed", f"GET /models answered HTTP {status}", ms)


def unreachable(base: str, exc: TransportError) -> str:
    """Why no connection was made, in words that point at the fix."""
    if isinstance(exc, TimedOut):
        return (
            f"connecting to {base} timed out ({exc}): is the host up, or does a firewall drop the connection?"
        )
    parts = urlsplit(base)
    host = parts.hostname or base
    where = f"{host}:{parts.port}" if parts.port else host
    cause = exc.cause if isinstance(exc, ConnectFailed) else ""
    reasons = {
        "refused": f"connection refused: nothing listens at {where} (is the server running, on this port?)",
        "dns": f"the host name {host} does not resolve (check its spelling and this machine's DNS)",
        "tls": f"the TLS handshake failed ({exc}): does the server speak https on this port, "
        "with a certificate this machine trusts?",
        "reset": f"{where} reset the connection (does it speak HTTP on this port?)",
    }
    return f"connecting to {base} failed: {reasons.get(cause, str(exc))}"


def _error_code(body: bytes) -> object:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def wrong_path(answer: Answer, model_id: str = "") -> bool:
    """A 404 that is not about the model: the route itself is missing (e.g. no ``/v1``, or
    a base URL that already ends in ``/chat/completions``). A path the upstream quotes back
    (``Invalid URL (POST /v1/models/chat/completions)``) does not make it about the model."""
    if isinstance(answer, TransportError) or answer[0] != 404:
        return False
    if _error_code(answer[1]) == "model_not_found":
        return False
    quoted = quote_upstream(answer[0], answer[1]).lower()
    if model_id and model_id.lower() in quoted:
        return False
    return "model" not in " ".join(word for word in quoted.split() if "/" not in word)


_ENDPOINT_SUFFIXES = ("/chat/completions", "/completions", "/embeddings", "/models", "/responses")


def wrong_path_message(base: str, path: str) -> str:
    suffix = next((end for end in _ENDPOINT_SUFFIXES if base.endswith(end)), None)
    if suffix is not None:
        hint = f"the base URL is the API root, without the endpoint (try {base[: -len(suffix)]})"
    elif base.endswith("/v1"):
        hint = "check the path after the host"
    else:
        hint = f"OpenAI-compatible servers usually serve under /v1 (try {base}/v1)"
    return (
        f"the upstream answered HTTP 404 at {base}/models and at {base}{path}: is the base URL right? {hint}"
    )
