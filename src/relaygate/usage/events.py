"""One usage event per router call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relaygate.store.records import new_id, utcnow


@dataclass(slots=True)
class UsageEvent:
    workspace_id: str
    api_key_id: str | None
    endpoint: str
    request_id: str
    router_model: str | None = None
    upstream_model: str | None = None
    status: int = 0
    stream: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_nano: int = 0
    latency_ms: float = 0.0
    ttfb_ms: float | None = None
    overhead_ms: float | None = None
    attempts: int = 1
    error_code: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    id: str = field(default_factory=new_id)

    def apply_usage(self, usage: dict[str, Any]) -> None:
        self.prompt_tokens = _int(usage.get("prompt_tokens", usage.get("input_tokens")))
        self.completion_tokens = _int(usage.get("completion_tokens", usage.get("output_tokens")))
        total = usage.get("total_tokens")
        self.total_tokens = _int(total) if total is not None else self.prompt_tokens + self.completion_tokens

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
