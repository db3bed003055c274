"""The hot path's in-memory view of keys and models.

A request is authenticated and routed with two dict lookups and no I/O. The catalog
is rebuilt whole from the store whenever ``catalog_state.version`` moves: at once after
a write made by this process, and after a write made by any other process (another
worker, another host, the CLI) as soon as Redis pub/sub tells us (``catalog_sync.py``),
or within one poll interval when Redis is not configured or down. Upstream keys are
decrypted once per rebuild, never per request.

In between, a key or model the catalog does not know is looked up in the store once
before the call is refused (``find_principal``, ``find_model``; bounded and
negative-cached by ``miss_loader.py``), so one made a moment ago by another process
works at once. Known keys and models never cause a store query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.cluster.miss_loader import MissLoader
from relaygate.crypto import CryptoError, Keyring, Sealed
from relaygate.deployments.config import Release
from relaygate.store import deployment_reads, repository, request_log, search_backends
from relaygate.store.records import ApiKey, Model, utcnow
from relaygate.store.search_backends import SearchBackendRecord
from relaygate.web_search.config import SearchBackend, backend_kind

log = logging.getLogger("relaygate.catalog")

# While changes are pushed (catalog_sync.py), polling is only a safety net.
PUSHED_POLL_INTERVAL = 5.0
# A key's last use is stored at most this often per process: with many processes and
# many busy keys, one UPDATE per key per poll would be most of the store's write load.
LAST_USE_RESOLUTION_S = 60.0


@dataclass(frozen=True, slots=True)
class Principal:
    workspace_id: str
    key_id: str
    role: str
    expires_at: float | None = None  # unix seconds: the key stops authenticating then
    # The router ids the key may call (None: every model of its workspace); any other is
    # answered as a model of another workspace (``may_use``: one set lookup).
    allowed_models: frozenset[str] | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_use(self, router_id: str) -> bool:
        return self.allowed_models is None or router_id in self.allowed_models

    @classmethod
    def of_key(cls, key: ApiKey) -> Principal:
        return cls(
            key.workspace_id,
            key.id,
            key.role,
            None if key.expires_at is None else key.expires_at.timestamp(),
            None if key.allowed_models is None else frozenset(key.allowed_models),
        )


def _price(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def configured_price(value: Any) -> Decimal | None:
    """A price from a model's free-form configuration: a non-negative number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        price = Decimal(str(value))
    except ArithmeticError:
        return None
    return price if price.is_finite() and price >= 0 else None


@dataclass(frozen=True, slots=True)
class RoutableModel:
    """What the data plane needs to forward a call, prepared once per catalog rebuild."""

    id: str
    workspace_id: str
    router_id: str
    provider: str
    model_id: str
    model_type: str
    base_url: str
    authorization: str = field(repr=False)
    max_tokens: int | None
    temperature: float | None
    input_cost: Decimal | None
    output_cost: Decimal | None
    cost_per_image: Decimal | None
    capabilities: dict[str, bool]
    created: int
    # Without supports_strict_tool: "emulate" (relaygate checks strict schemas) or "reject" (400).
    strict_mode: str = "emulate"
    # USD per million web searches relaygate runs for the model's calls (configuration's
    # million_searches_cost, the hosted product's name); a backend's own price comes first.
    search_cost: Decimal | None = None

    def supports(self, capability: str) -> bool:
        return bool(self.capabilities.get(capability, False))

    @classmethod
    def from_record(cls, model: Model, api_key: str) -> RoutableModel:
        return cls(
            id=model.id,
            workspace_id=model.workspace_id,
            router_id=model.router_id,
            provider=model.provider,
            model_id=model.model_id,
            model_type=model.model_type,
            base_url=model.base_url.rstrip("/"),
            authorization=f"Bearer {api_key}" if api_key else "",
            max_tokens=model.max_tokens,
            temperature=model.temperature,
            input_cost=_price(model.input_cost),
            output_cost=_price(model.output_cost),
            cost_per_image=_price(model.cost_per_image),
            capabilities=dict(model.capabilities),
            created=int(model.created_at.timestamp()),
            strict_mode=str(model.configuration.get("strict_mode") or "emulate"),
            search_cost=configured_price(model.configuration.get("million_searches_cost")),
        )


@dataclass(frozen=True)
class Snapshot:
    version: int = -1
    keys: dict[str, Principal] = field(default_factory=dict)
    models: dict[tuple[str, str], RoutableModel] = field(default_factory=dict)
    by_workspace: dict[str, tuple[RoutableModel, ...]] = field(default_factory=dict)
    deployments: dict[tuple[str, str], Release] = field(default_factory=dict)  # (workspace, key)
    search_backends: dict[str, SearchBackend] = field(default_factory=dict)  # by workspace
    disabled: frozenset[tuple[str, str]] = frozenset()  # (workspace, router id) of disabled models
    body_logging: dict[str, bool] = field(default_factory=dict)  # a workspace's own choice (request_log.py)


class Catalog:
    def __init__(
        self, engine: AsyncEngine, keyring: Keyring, poll_interval: float, *, miss_ttl: float = 2.0
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._poll_interval = poll_interval
        self._snapshot = Snapshot()
        self._lock = asyncio.Lock()
        self._last_used: dict[str, datetime] = {}
        self._last_stored: dict[str, datetime] = {}
        self.healthy = True
        self.push_live = False
        self._poll_now = asyncio.Event()
        self.on_local_change: Callable[[int], Awaitable[None]] | None = None
        self._key_misses: MissLoader[str, Principal] = MissLoader(
            self._fetch_principal, negative_ttl=miss_ttl
        )
        self._model_misses: MissLoader[tuple[str, str], RoutableModel] = MissLoader(
            self._fetch_model, negative_ttl=miss_ttl
        )
        self._deployment_misses: MissLoader[tuple[str, str], Release] = MissLoader(
            self._fetch_deployment, negative_ttl=miss_ttl
        )

    @property
    def keyring(self) -> Keyring:
        """The master keys upstream secrets open with (evaluators' header values use them too)."""
        return self._keyring

    # -- hot path -------------------------------------------------------------------

    def principal(self, key_hash: str) -> Principal | None:
        principal = self._snapshot.keys.get(key_hash)
        if principal is not None:
            self._last_used[principal.key_id] = utcnow()
        return principal

    def model(self, workspace_id: str, router_id: str) -> RoutableModel | None:
        return self._snapshot.models.get((workspace_id, router_id))

    def models(self, workspace_id: str) -> tuple[RoutableModel, ...]:
        return self._snapshot.by_workspace.get(workspace_id, ())

    def models_for(self, principal: Principal) -> tuple[RoutableModel, ...]:
        """The models ``principal`` may call: its workspace's, less those its key's allow-list leaves out."""
        models = self.models(principal.workspace_id)
        if principal.allowed_models is None:
            return models
        return tuple(model for model in models if model.router_id in principal.allowed_models)

    def deployment(self, workspace_id: str, key: str) -> Release | None:
        """The current version of the workspace's deployment ``key``."""
        return self._snapshot.deployments.get((workspace_id, key))

    def is_disabled(self, workspace_id: str, router_id: str) -> bool:
        """The workspace has this model, switched off (a refusal says so; off the hot path)."""
        return (workspace_id, router_id) in self._snapshot.disabled

    def logs_bodies(self, workspace_id: str) -> bool | None:
        """The workspace's body logging choice (None: it made none, the server's default holds)."""
        return self._snapshot.body_logging.get(workspace_id)

    def search_backend(self, workspace_id: str) -> SearchBackend | None:
        """The workspace's web search backend (``/v2/search/backend``), key decrypted."""
        return self._snapshot.search_backends.get(workspace_id)

    @property
    def version(self) -> int:
        return self._snapshot.version

    # -- misses: one bounded store lookup before a refusal -------------------------------

    async def find_principal(self, key_hash: str) -> Principal | None:
        """``principal()``, or the key from the store when it was made since the last rebuild."""
        return self.principal(key_hash) or await self._key_misses.get(key_hash)

    async def find_model(self, workspace_id: str, router_id: str) -> RoutableModel | None:
        """``model()``, or the model from the store when it was made since the last rebuild."""
        return self.model(workspace_id, router_id) or await self._model_misses.get((workspace_id, router_id))

    async def find_deployment(self, workspace_id: str, key: str) -> Release | None:
        """``deployment()``, or the deployment from the store when it was made since the last rebuild."""
        return self.deployment(workspace_id, key) or await self._deployment_misses.get((workspace_id, key))

    @property
    def store_lookups(self) -> dict[str, int]:
        """Store lookups of misses so far, by kind (``/metrics``)."""
        return {
            "key": self._key_misses.lookups,
            "model": self._model_misses.lookups,
            "deployment": self._deployment_misses.lookups,
        }

    async def _fetch_principal(self, key_hash: str) -> Principal | None:
        snapshot = self._snapshot
        key = await repository.find_active_key(self._engine, key_hash)
        if key is None:
            return None
        principal = Principal.of_key(key)
        # A rebuild since the lookup began holds whatever the store holds (a revocation too).
        if self._snapshot is snapshot:
            snapshot.keys[key_hash] = principal
        self._last_used[key.id] = utcnow()
        return principal

    async def _fetch_model(self, name: tuple[str, str]) -> RoutableModel | None:
        snapshot = self._snapshot
        record = await repository.find_enabled_model(self._engine, *name)
        routable = self._prepare(record) if record is not None else None
        if routable is not None and self._snapshot is snapshot:
            snapshot.models[name] = routable
            workspace_id = routable.workspace_id
            snapshot.by_workspace[workspace_id] = (*snapshot.by_workspace.get(workspace_id, ()), routable)
        return routable

    async def _fetch_deployment(self, name: tuple[str, str]) -> Release | None:
        snapshot = self._snapshot
        release = await deployment_reads.find_release(self._engine, *name)
        if release is not None and self._snapshot is snapshot:
            snapshot.deployments[name] = release
        return release

    # -- refresh --------------------------------------------------------------------

    async def refresh(self, *, force: bool = False, announce: bool = True) -> bool:
        """Rebuild when the store's version moved (or always with ``force``).

        Called after a local write, a change is announced to other processes; the
        poller and the pub/sub subscriber pass ``announce=False``.
        """
        async with self._lock:
            version = await repository.catalog_version(self._engine)
            if not force and version == self._snapshot.version:
                return False
            self._snapshot = await self._load(version)
            self._key_misses.forget()
            self._model_misses.forget()
            self._deployment_misses.forget()
        if announce and not force and self.on_local_change is not None:
            await self.on_local_change(version)
        return True

    async def _load(self, version: int) -> Snapshot:
        workspaces = {ws.id for ws in await repository.list_workspaces(self._engine)}
        keys = {
            key.key_hash: Principal.of_key(key)
            for key in await repository.list_keys(self._engine)
            if not key.revoked and key.workspace_id in workspaces
        }
        models: dict[tuple[str, str], RoutableModel] = {}
        grouped: dict[str, list[RoutableModel]] = {}
        disabled: set[tuple[str, str]] = set()
        for record in await repository.list_models(self._engine):
            if not record.enabled:
                disabled.add((record.workspace_id, record.router_id))
                continue
            routable = self._prepare(record)
            if routable is None:
                continue
            models[(record.workspace_id, record.router_id)] = routable
            grouped.setdefault(record.workspace_id, []).append(routable)
        deployments = {
            (release.workspace_id, release.key): release
            for release in await deployment_reads.current_releases(self._engine)
            if release.workspace_id in workspaces
        }
        by_workspace = {ws: tuple(items) for ws, items in grouped.items()}
        backends = {
            backend.workspace_id: backend
            for backend in map(self._open_backend, await search_backends.list_backends(self._engine))
            if backend is not None and backend.workspace_id in workspaces
        }
        body_logging = {
            setting.workspace_id: setting.log_bodies
            for setting in await request_log.list_logging(self._engine)
            if setting.workspace_id in workspaces
        }
        return Snapshot(
            version,
            keys,
            models,
            by_workspace,
            deployments,
            backends,
            disabled=frozenset(disabled),
            body_logging=body_logging,
        )

    def _prepare(self, record: Model) -> RoutableModel | None:
        sealed = Sealed(record.api_key_key_id, record.api_key_ciphertext)
        try:
            api_key = self._keyring.open(sealed, associated=record.id)
        except CryptoError as exc:
            log.error("model %s (%s) is not routable: %s", record.id, record.router_id, exc)
            return None
        return RoutableModel.from_record(record, api_key)

    def _open_backend(self, record: SearchBackendRecord) -> SearchBackend | None:
        """A workspace's search backend as the data plane uses it, its key decrypted."""
        kind, api_key = backend_kind(record.kind), ""
        try:
            if record.api_key_ciphertext is not None and record.api_key_key_id is not None:
                sealed = Sealed(record.api_key_key_id, record.api_key_ciphertext)
                api_key = self._keyring.open(sealed, associated=record.id)
        except CryptoError as exc:
            log.error("the web search backend of workspace %s is not usable: %s", record.workspace_id, exc)
            return None
        if kind is None:  # stored by a newer relaygate
            log.error("the web search backend of workspace %s is of an unknown kind", record.workspace_id)
            return None
        return SearchBackend(
            id=record.id,
            workspace_id=record.workspace_id,
            kind=kind,
            base_url=record.base_url.rstrip("/"),
            api_key=api_key,
            max_searches=record.max_searches,
            timeout_s=record.timeout_s,
            cache_ttl_s=record.cache_ttl_s,
            price_per_1000=_price(record.price_per_1000),
            prefer_relaygate=record.prefer_relaygate,
        )

    def push_state(self, live: bool) -> None:
        """Told by catalog_sync: changes are pushed (poll rarely) or not (poll now, then often)."""
        self.push_live = live
        if not live:
            self._poll_now.set()

    async def poll_forever(self) -> None:
        """Background task: pick up other processes' writes; store key last-use times."""
        while True:
            interval = self._poll_interval
            if self.push_live and self.healthy:
                interval = max(interval, PUSHED_POLL_INTERVAL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_now.wait(), timeout=interval)
            self._poll_now.clear()
            try:
                await self.refresh(announce=False)
                await self._flush_last_used()
                if not self.healthy:
                    log.warning("the store is reachable again; the catalog is current")
                self.healthy = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: keep routing from what we have
                if self.healthy:
                    log.warning("catalog refresh failed, serving the last known catalog: %s", exc)
                self.healthy = False

    async def _flush_last_used(self) -> None:
        pending, self._last_used = self._last_used, {}
        due = {
            key_id: when
            for key_id, when in pending.items()
            if key_id not in self._last_stored
            or (when - self._last_stored[key_id]).total_seconds() >= LAST_USE_RESOLUTION_S
        }
        try:
            await repository.record_key_use(self._engine, due)
        except Exception:
            for key_id, when in pending.items():
                self._last_used.setdefault(key_id, when)
            raise
        self._last_stored.update(due)

    def describe(self) -> dict[str, Any]:
        snap = self._snapshot
        return {
            "version": snap.version,
            "keys": len(snap.keys),
            "models": len(snap.models),
            "deployments": len(snap.deployments),
        }
