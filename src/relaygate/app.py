"""The composition root: every component of the process, built once, in dependency order,
each handed what it needs; then the ASGI application in front of them.

Nothing else builds a long-lived component or patches one after it is built: ``Runtime``
holds them and starts and stops them, ``serving/asgi_app.py`` dispatches requests to the
two planes. uvicorn's entry is ``create_app``; granian's (``serving/rsgi_app.py``) calls
``assemble``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from relaygate.alerts.conditions import Conditions
from relaygate.alerts.runner import AlertRunner
from relaygate.auth import AuthThrottle
from relaygate.catalog import Catalog
from relaygate.cluster.catalog_sync import CatalogSync
from relaygate.cluster.redis_link import RedisLink
from relaygate.control.alert_service import AlertService
from relaygate.control.app import build_control_app
from relaygate.control.health_checks import HealthCheckRunner
from relaygate.control.health_tally import HealthTally
from relaygate.control.log_retention import LogRetention
from relaygate.control.log_tail import LogTail, lookback_for
from relaygate.control.model_health import HealthMonitor
from relaygate.control.model_service import ModelService
from relaygate.control.probe_quota import ProbeQuota
from relaygate.control.search_service import SearchBackendService
from relaygate.control.security_headers import with_cors
from relaygate.crypto import Keyring
from relaygate.deployments.invoke_app import DeploymentCalls
from relaygate.experiments.runner import ExperimentRunner, process_owner
from relaygate.limits import Limiter
from relaygate.observability.metrics import Metrics, UsageCounters
from relaygate.observability.telemetry import Telemetry, tracing_configured
from relaygate.router.app import RouterApp, RouterLimits
from relaygate.router.breaker import Breakers
from relaygate.router.breaker_sync import BreakerSync
from relaygate.router.cache import ResponseCache
from relaygate.router.disconnects import DisconnectWatcher
from relaygate.router.forward import Forwarder
from relaygate.router.guards import InputGuard
from relaygate.router.policy import RoutePolicy
from relaygate.router.relay import Relay
from relaygate.router.search import SearchForwarder
from relaygate.router.stream_guard import StreamWatchdog
from relaygate.runtime import Runtime
from relaygate.security.master_keys import MasterKeySource
from relaygate.serving.asgi_app import RelaygateApp, behind_proxies
from relaygate.serving.drain import Drain
from relaygate.settings import Settings
from relaygate.store.database import create_engine
from relaygate.store.records import Model
from relaygate.store.usage_writers import batch_writer
from relaygate.upstream.probe import Prober
from relaygate.upstream.ssrf import UpstreamGuard
from relaygate.upstream.transport import PyreqwestTransport, StreamBounds
from relaygate.usage.body_log import BodyLog
from relaygate.usage.recorder import UsageObserver, UsageRecorder
from relaygate.web_search import ResultCache, WebSearcher


def assemble(settings: Settings) -> tuple[Runtime, ASGIApp]:
    """The process's runtime and the ASGI application in front of it."""
    # The store, secrets and the way out to upstreams.
    engine = create_engine(settings)
    keyring = Keyring.from_source(
        MasterKeySource(settings.master_key, settings.master_key_previous, settings.master_key_file)
    )
    guard = UpstreamGuard(settings.allow_private_upstreams, settings.upstream_allowlist)
    transport = PyreqwestTransport(
        guard,
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.request_timeout_s,
        max_body_bytes=settings.max_upstream_body_bytes,
        stream_bounds=StreamBounds(settings.stream_max_seconds, settings.stream_max_bytes),
    )

    # What the hot path reads, and what keeps it in step across processes.
    catalog = Catalog(engine, keyring, settings.catalog_poll_interval_s, miss_ttl=settings.catalog_miss_ttl_s)
    redis = RedisLink(settings.redis_url)
    catalog_sync = CatalogSync(catalog, redis, settings.redis_prefix)
    breakers = Breakers(settings.breaker_failures, settings.breaker_cooldown_s)
    breaker_sync = BreakerSync(breakers, redis, settings.redis_prefix)
    cache = ResponseCache(redis, settings.cache_max_bytes)
    limits = Limiter(
        engine,
        catalog,
        redis,
        prefix=settings.redis_prefix,
        sync_interval=settings.limits_sync_interval_s,
        completion_reserve=settings.budget_completion_reserve,
    )

    # Accounting: the usage writer, and who sees each event it stores (metrics, traces).
    counters = UsageCounters()
    health_tally = HealthTally()  # model health's per-minute tallies (control/model_health.py)
    telemetry = Telemetry() if tracing_configured() else None
    observers: list[UsageObserver] = [counters, health_tally, *([telemetry] if telemetry is not None else [])]
    recorder = UsageRecorder(
        batch_writer(engine),
        capacity=settings.usage_queue_size,
        batch_size=settings.usage_batch_size,
        flush_interval=settings.usage_flush_interval_s,
        storing=settings.usage_enabled,
        observers=observers,
    )

    # The data plane.
    auth_throttle = AuthThrottle(settings.auth_failure_limit, settings.auth_failure_window_s)
    watchdog = StreamWatchdog()
    disconnects = DisconnectWatcher()
    body_log = BodyLog(settings.log_body_bytes)  # used for the calls of workspaces that log bodies
    input_guard = InputGuard(settings.max_messages)
    policy = RoutePolicy(settings, breakers, catalog, watchdog)
    relay = Relay(settings.max_sse_event_bytes)
    # Web search for models that cannot search themselves: relaygate's loop, the workspace's backend.
    searcher = WebSearcher(transport, ResultCache())
    search = SearchForwarder(transport, policy, relay, catalog, searcher, settings.max_sse_event_bytes)
    router = RouterApp(
        catalog,
        Forwarder(transport, policy, cache, relay, search),
        recorder,
        RouterLimits(settings.max_body_bytes, settings.max_upload_bytes, settings.max_in_flight),
        input_guard,
        auth_throttle,
        limits,
        disconnects,
        body_log=body_log,
        log_bodies=settings.log_bodies,
        tracing=telemetry is not None,
    )
    # A deployment's invoke, stream and get_config: served by the router's machinery.
    deployments = DeploymentCalls(catalog, input_guard, settings.max_body_bytes)

    # The control plane's model registry (it probes an upstream before saving it).
    prober = Prober(transport, settings.probe_timeout_s)
    owner = process_owner()  # this process in the store's leases and model health's tallies
    models = ModelService(engine, keyring, guard, prober, catalog, ProbeQuota(settings.probes_per_minute))
    # Model health: the store's usage events and check results, this process's breakers.
    health = HealthMonitor(engine, breakers.state_of, health_tally, owner)

    runtime = Runtime(
        settings=settings,
        engine=engine,
        transport=transport,
        catalog=catalog,
        redis=redis,
        recorder=recorder,
        limits=limits,
        models=models,
        search_backends=SearchBackendService(engine, keyring, guard, catalog),
        # Experiments run their generations and evaluators through the router, in process.
        experiments=ExperimentRunner(engine, router, catalog, transport),
        alerts=alert_service(settings, engine, keyring, guard, transport, limits, breakers, health),
        # The request log: its live tail polls the store, its retention sweep blanks old bodies.
        log_tail=LogTail(engine, lookback_s=lookback_for(settings.usage_flush_interval_s)),
        log_retention=LogRetention(engine),
        health=health,
        health_checks=HealthCheckRunner(engine, keyring, guard, prober, owner),
        auth_throttle=auth_throttle,
        router=router,
        disconnects=disconnects,
        breakers=breakers,
        cache=cache,
        watchdog=watchdog,
        catalog_sync=catalog_sync,
        breaker_sync=breaker_sync,
        drain=Drain(settings.drain_delay_s),
        telemetry=telemetry,
    )
    metrics = Metrics(counters, gauges=runtime)
    # The router needs neither the forwarded address nor scheme on its hot path; it asks
    # ``serving/client_address.py`` when it does (failed authentications).
    control = behind_proxies(build_control_app(runtime, metrics))
    return runtime, with_cors(RelaygateApp(runtime, router, deployments, control), settings.cors_origins)


def alert_service(
    settings: Settings,
    engine: AsyncEngine,
    keyring: Keyring,
    guard: UpstreamGuard,
    transport: PyreqwestTransport,
    limits: Limiter,
    breakers: Breakers,
    health: HealthMonitor,
) -> AlertService:
    """Alert rules and their evaluator: store figures, budget ledgers, breakers and model
    health, never the hot path."""

    async def health_of(workspace_id: str, models: Sequence[Model]) -> dict[str, str]:
        summaries = await health.summaries(workspace_id, models)
        return {model_id: summary.state for model_id, summary in summaries.items()}

    runner = AlertRunner(
        engine,
        keyring,
        transport,
        Conditions(engine, limits, breakers.state_of, health_of),
        interval_s=settings.alerts_interval_s,
        retry_base_s=settings.alert_retry_base_s,
    )
    return AlertService(engine, keyring, guard, runner)


def create_app(settings: Settings | None = None) -> ASGIApp:
    """uvicorn's entry (``relaygate.app:create_app``); the lifespan starts the runtime."""
    return assemble(settings or Settings.from_env())[1]
