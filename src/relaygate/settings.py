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

from relaygate.vocab import MODEL_TYPES

_TRUE = {"1", "true", "yes", "on"}


class SettingsError(ValueError):
    """A RELAYGATE_* variable has a value we cannot use."""


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in _TRUE


SERVERS = ("uvicorn", "granian")


def _server(env: Mapping[str, str]) -> str:
    server = (env.get("RELAYGATE_SERVER") or "uvicorn").lower()
    if server not in SERVERS:
        raise SettingsError(f"RELAYGATE_SERVER must be one of {', '.join(SERVERS)}, got {server!r}")
    return server


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


# Quick model types answer in seconds; a minute is generous and stops a hung upstream early.
_QUICK_TYPE_TIMEOUT_S = {"embedding": 60.0, "moderation": 60.0, "rerank": 60.0}


def _call_timeouts(env: Mapping[str, str]) -> tuple[tuple[str, float], ...]:
    """RELAYGATE_CALL_TIMEOUT_<TYPE> (seconds) per model type, e.g. RELAYGATE_CALL_TIMEOUT_CHAT=120."""
    timeouts = dict(_QUICK_TYPE_TIMEOUT_S)
    for kind in MODEL_TYPES:
        name = f"RELAYGATE_CALL_TIMEOUT_{kind.upper()}"
        if env.get(name):
            timeouts[kind] = _number(env, name, 0.0)
            if timeouts[kind] <= 0:
                raise SettingsError(f"{name} must be above 0 seconds")
    return tuple(timeouts.items())


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
    max_upload_bytes: int = 25 * 1024 * 1024  # multipart uploads (audio, image edits)
    probe_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 600.0
    catalog_poll_interval_s: float = 0.5
    # A key or model the catalog did not know and the store did not have either is refused
    # without another store lookup for this long (or until the catalog's next rebuild).
    catalog_miss_ttl_s: float = 2.0
    # Graceful shutdown (docs/deploy.md): how long in-flight requests and streams may take
    # to finish after SIGTERM, and how long readiness says 503 before the listener closes.
    drain_timeout_s: float = 30.0
    drain_delay_s: float = 0.0
    # Events per stored batch, or what came within the flush interval: at a few thousand
    # calls a second the writer stores once a second. In batches of 500 the SQLite writer
    # cost about 12 us of CPU per event at c=64 and the router itself slowed by as much
    # again (five wake-ups and commits a second, each meeting cold caches); at 5000, 8 us
    # and no measurable slowdown (bench, on/off within 2 %).
    usage_batch_size: int = 5000
    usage_flush_interval_s: float = 1.0
    usage_queue_size: int = 100_000
    # Usage, limits and observability (issue 5; docs/limits.md).
    usage_enabled: bool = True  # store usage events (off: /metrics and traces only)
    log_bodies: bool = False  # requests and answers in usage events (usage/body_log.py)
    log_body_bytes: int = 32 * 1024
    redis_prefix: str = "relaygate:"  # namespace of every shared key in Redis
    limits_sync_interval_s: float = 0.05  # how often shared limit counters meet in Redis
    # Completion tokens a budget reserves for a call with no max_tokens of its own or of its
    # model: a typical answer, not a bound (docs/limits.md).
    budget_completion_reserve: int = 1024
    metrics_token: str | None = field(default=None, repr=False)  # bearer for GET /metrics
    alerts_interval_s: float = 15.0  # how often alert rules are evaluated (docs/alerts.md)
    alert_retry_base_s: float = 2.0  # the first webhook retry's delay; each next one doubles
    log_level: str = "info"
    server: str = "uvicorn"  # or granian (RSGI); `relaygate serve --server` overrides it (serving/)
    # Routing policy (issue 4): retry backoff, per-attempt timeouts, cache, circuit breaker.
    retry_backoff_base_s: float = 1.0
    retry_backoff_cap_s: float = 30.0
    # Strict schemas checked by relaygate (models without supports_strict_tool): how many
    # times a call whose answer broke them is made again before a 502.
    strict_retries: int = 1
    call_timeouts_s: tuple[tuple[str, float], ...] = ()  # per model type; others: request_timeout_s
    stream_idle_timeout_s: float = 120.0
    cache_max_bytes: int = 64 * 1024 * 1024
    breaker_failures: int = 5
    breaker_cooldown_s: float = 30.0
    # Security bounds (issue 8; docs/security.md).
    master_key_previous: tuple[str, ...] = field(default=(), repr=False)
    max_header_bytes: int = 64 * 1024
    max_control_body_bytes: int = 1024 * 1024  # a /v2 request body; past it, 413 (control/admission.py)
    max_import_bytes: int = 64 * 1024 * 1024  # a dataset file imported (POST /v2/datasets/{id}/import)
    max_messages: int = 2048
    max_in_flight: int = 4096  # router calls one process serves at once; past it, 503 (0: no bound)
    max_upstream_body_bytes: int = 64 * 1024 * 1024
    stream_max_seconds: float = 1800.0
    stream_max_bytes: int = 256 * 1024 * 1024
    max_sse_event_bytes: int = 1024 * 1024  # one event of an upstream's stream; past it, an error event
    auth_failure_limit: int = 60
    auth_failure_window_s: float = 60.0
    probes_per_minute: int = 30
    cors_origins: tuple[str, ...] = ()

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
            max_upload_bytes=int(_number(env, "RELAYGATE_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)),
            probe_timeout_s=_number(env, "RELAYGATE_PROBE_TIMEOUT", 10.0),
            connect_timeout_s=_number(env, "RELAYGATE_CONNECT_TIMEOUT", 10.0),
            request_timeout_s=_number(env, "RELAYGATE_REQUEST_TIMEOUT", 600.0),
            catalog_poll_interval_s=_number(env, "RELAYGATE_CATALOG_POLL_INTERVAL", 0.5),
            catalog_miss_ttl_s=_number(env, "RELAYGATE_CATALOG_MISS_TTL", 2.0),
            drain_timeout_s=_number(env, "RELAYGATE_DRAIN_TIMEOUT", 30.0),
            drain_delay_s=_number(env, "RELAYGATE_DRAIN_DELAY", 0.0),
            usage_batch_size=int(_number(env, "RELAYGATE_USAGE_BATCH_SIZE", 5000)),
            usage_flush_interval_s=_number(env, "RELAYGATE_USAGE_FLUSH_INTERVAL", 1.0),
            usage_queue_size=int(_number(env, "RELAYGATE_USAGE_QUEUE_SIZE", 100_000)),
            log_level=(env.get("RELAYGATE_LOG_LEVEL") or "info").lower(),
            server=_server(env),
            usage_enabled=_flag(env, "RELAYGATE_USAGE_ENABLED", default=True),
            log_bodies=_flag(env, "RELAYGATE_LOG_BODIES"),
            log_body_bytes=int(_number(env, "RELAYGATE_LOG_BODY_BYTES", 32 * 1024)),
            redis_prefix=env.get("RELAYGATE_REDIS_PREFIX") or "relaygate:",
            limits_sync_interval_s=_number(env, "RELAYGATE_LIMITS_SYNC_INTERVAL", 0.05),
            budget_completion_reserve=int(_number(env, "RELAYGATE_BUDGET_COMPLETION_RESERVE", 1024)),
            metrics_token=env.get("RELAYGATE_METRICS_TOKEN") or None,
            alerts_interval_s=_number(env, "RELAYGATE_ALERTS_INTERVAL", 15.0),
            alert_retry_base_s=_number(env, "RELAYGATE_ALERT_RETRY_BASE", 2.0),
            retry_backoff_base_s=_number(env, "RELAYGATE_RETRY_BACKOFF_BASE", 1.0),
            retry_backoff_cap_s=_number(env, "RELAYGATE_RETRY_BACKOFF_CAP", 30.0),
            strict_retries=int(_number(env, "RELAYGATE_STRICT_RETRIES", 1)),
            call_timeouts_s=_call_timeouts(env),
            stream_idle_timeout_s=_number(env, "RELAYGATE_STREAM_IDLE_TIMEOUT", 120.0),
            cache_max_bytes=int(_number(env, "RELAYGATE_CACHE_MAX_BYTES", 64 * 1024 * 1024)),
            breaker_failures=int(_number(env, "RELAYGATE_BREAKER_FAILURES", 5)),
            breaker_cooldown_s=_number(env, "RELAYGATE_BREAKER_COOLDOWN", 30.0),
            master_key_previous=_list(env, "RELAYGATE_MASTER_KEY_PREVIOUS"),
            max_header_bytes=int(_number(env, "RELAYGATE_MAX_HEADER_BYTES", 64 * 1024)),
            max_control_body_bytes=int(_number(env, "RELAYGATE_MAX_CONTROL_BODY_BYTES", 1024 * 1024)),
            max_import_bytes=int(_number(env, "RELAYGATE_MAX_IMPORT_BYTES", 64 * 1024 * 1024)),
            max_messages=int(_number(env, "RELAYGATE_MAX_MESSAGES", 2048)),
            max_in_flight=int(_number(env, "RELAYGATE_MAX_IN_FLIGHT", 4096)),
            max_upstream_body_bytes=int(_number(env, "RELAYGATE_MAX_UPSTREAM_BODY_BYTES", 64 * 1024 * 1024)),
            stream_max_seconds=_number(env, "RELAYGATE_STREAM_MAX_SECONDS", 1800.0),
            stream_max_bytes=int(_number(env, "RELAYGATE_STREAM_MAX_BYTES", 256 * 1024 * 1024)),
            max_sse_event_bytes=int(_number(env, "RELAYGATE_MAX_SSE_EVENT_BYTES", 1024 * 1024)),
            auth_failure_limit=int(_number(env, "RELAYGATE_AUTH_FAILURE_LIMIT", 60)),
            auth_failure_window_s=_number(env, "RELAYGATE_AUTH_FAILURE_WINDOW", 60.0),
            probes_per_minute=int(_number(env, "RELAYGATE_PROBES_PER_MINUTE", 30)),
            cors_origins=_list(env, "RELAYGATE_CORS_ORIGINS"),
        )
