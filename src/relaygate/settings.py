"""Configuration from RELAYGATE_* environment variables.

Every setting has a default that works on one machine with embedded SQLite; the
environment overrides it. Settings are read once at start-up into a frozen object
that is passed down, never read from module globals.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}


class SettingsError(ValueError):
    """A RELAYGATE_* variable has a value we cannot use."""


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in _TRUE


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {raw!r}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    redis_url: str | None = None
    master_key: str | None = field(default=None, repr=False)
    bootstrap_key: str | None = field(default=None, repr=False)
    allow_private_upstreams: bool = False
    upstream_allowlist: tuple[str, ...] = ()
    max_body_bytes: int = 25 * 1024 * 1024
    probe_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 600.0
    catalog_poll_interval_s: float = 0.5
    usage_batch_size: int = 500
    usage_flush_interval_s: float = 1.0
    usage_queue_size: int = 100_000
    log_level: str = "info"

    @property
    def master_key_file(self) -> Path:
        return self.home / "master.key"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("RELAYGATE_HOME") or "./relaygate-data").expanduser().resolve()
        database_url = env.get("RELAYGATE_DATABASE_URL") or f"sqlite+aiosqlite:///{home / 'relaygate.db'}"
        bootstrap = env.get("RELAYGATE_BOOTSTRAP_KEY") or None
        if bootstrap is not None and len(bootstrap) < 20:
            raise SettingsError("RELAYGATE_BOOTSTRAP_KEY must be at least 20 characters long")
        return cls(
            home=home,
            database_url=database_url,
            redis_url=env.get("RELAYGATE_REDIS_URL") or None,
            master_key=env.get("RELAYGATE_MASTER_KEY") or None,
            bootstrap_key=bootstrap,
            allow_private_upstreams=_flag(env, "RELAYGATE_ALLOW_PRIVATE_UPSTREAMS"),
            upstream_allowlist=_list(env, "RELAYGATE_UPSTREAM_ALLOWLIST"),
            max_body_bytes=int(_number(env, "RELAYGATE_MAX_BODY_BYTES", 25 * 1024 * 1024)),
            probe_timeout_s=_number(env, "RELAYGATE_PROBE_TIMEOUT", 10.0),
            connect_timeout_s=_number(env, "RELAYGATE_CONNECT_TIMEOUT", 10.0),
            request_timeout_s=_number(env, "RELAYGATE_REQUEST_TIMEOUT", 600.0),
            catalog_poll_interval_s=_number(env, "RELAYGATE_CATALOG_POLL_INTERVAL", 0.5),
            usage_batch_size=int(_number(env, "RELAYGATE_USAGE_BATCH_SIZE", 500)),
            usage_flush_interval_s=_number(env, "RELAYGATE_USAGE_FLUSH_INTERVAL", 1.0),
            usage_queue_size=int(_number(env, "RELAYGATE_USAGE_QUEUE_SIZE", 100_000)),
            log_level=(env.get("RELAYGATE_LOG_LEVEL") or "info").lower(),
        )
