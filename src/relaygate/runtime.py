"""Every long-lived component of one relaygate process, created at start-up and
passed down explicitly (no module globals)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import Catalog
from relaygate.control.model_service import ModelService
from relaygate.crypto import Keyring, load_master_key
from relaygate.keys import ensure_bootstrap_key
from relaygate.redis_link import RedisLink
from relaygate.router.app import RouterApp
from relaygate.router.forward import Forwarder
from relaygate.settings import Settings
from relaygate.store import migrate
from relaygate.store.database import create_engine
from relaygate.upstream.probe import Prober
from relaygate.upstream.ssrf import UpstreamGuard
from relaygate.upstream.transport import PyreqwestTransport
from relaygate.usage.recorder import UsageRecorder

log = logging.getLogger("relaygate")


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    keyring: Keyring
    guard: UpstreamGuard
    transport: PyreqwestTransport
    catalog: Catalog
    recorder: UsageRecorder
    models: ModelService
    router: RouterApp
    redis: RedisLink
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ready: bool = False

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings)
        keyring = Keyring(load_master_key(settings.master_key, settings.master_key_file))
        guard = UpstreamGuard(settings.allow_private_upstreams, settings.upstream_allowlist)
        transport = PyreqwestTransport(
            guard, connect_timeout=settings.connect_timeout_s, read_timeout=settings.request_timeout_s
        )
        catalog = Catalog(engine, keyring, settings.catalog_poll_interval_s)
        recorder = UsageRecorder(
            engine,
            capacity=settings.usage_queue_size,
            batch_size=settings.usage_batch_size,
            flush_interval=settings.usage_flush_interval_s,
        )
        models = ModelService(engine, keyring, guard, Prober(transport, settings.probe_timeout_s), catalog)
        router = RouterApp(
            catalog, Forwarder(transport, settings.request_timeout_s), recorder, settings.max_body_bytes
        )
        redis = RedisLink(settings.redis_url)
        return cls(settings, engine, keyring, guard, transport, catalog, recorder, models, router, redis)

    async def start(self) -> None:
        await self.redis.start()
        if self.settings.is_sqlite:
            await migrate.upgrade_to_head(self.engine)
        else:
            await migrate.ensure_current(self.engine)
        if self.settings.bootstrap_key:
            await ensure_bootstrap_key(self.engine, self.settings.bootstrap_key)
        await self.catalog.refresh(force=True)
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self.catalog.poll_forever()), loop.create_task(self.recorder.run())]
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.recorder.flush()
        except Exception as exc:
            log.error("could not store %d usage events at shutdown: %s", self.recorder.depth, exc)
        await self.transport.aclose()
        await self.redis.stop()
        await self.engine.dispose()
