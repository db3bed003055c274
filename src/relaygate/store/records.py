"""Plain records the store hands out: no ORM objects leave the store package."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from uuid_utils import uuid7


def new_id() -> str:
    return str(uuid4())


def new_event_id() -> str:
    """A UUIDv7 for a usage event: time-ordered, so the append-only usage table's primary
    key index grows at its right edge instead of at random pages, and cheaper to make
    than a uuid4 (one per router call)."""
    return str(uuid7())


def utcnow() -> datetime:
    return datetime.now(UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(value: datetime) -> int:
    """An aware datetime as whole microseconds since the Unix epoch (exact)."""
    return (value - EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def now_micros() -> int:
    """The time now (the same clock as ``utcnow()``) in microseconds since the epoch."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    id: str
    workspace_id: str
    name: str
    role: str
    key_hash: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    expires_at: datetime | None = None  # stops authenticating then (None: never)
    allowed_models: tuple[str, ...] | None = None  # router ids it may call (None: all)

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class Model:
    id: str
    workspace_id: str
    router_id: str
    provider: str
    model_id: str
    model_type: str
    display_name: str
    description: str | None
    region: str
    base_url: str
    api_key_ciphertext: bytes = field(repr=False)
    api_key_key_id: str
    api_key_hint: str
    max_tokens: int | None
    temperature: float | None
    input_cost: str | None
    output_cost: str | None
    cost_per_image: str | None
    cache_read_cost: str | None
    cache_write_cost: str | None
    capabilities: dict[str, bool]
    configuration: dict[str, Any]
    validation: dict[str, Any] | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
