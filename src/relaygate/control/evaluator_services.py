"""What evaluators need of the running process: their workspace's models, deployments and
SSRF rules (to check a definition), and the engine that scores for a principal.

The engine reaches models through the router itself (``evaluators/router_models.py``),
handed in as ``runtime.router``: the control plane never imports the data plane.
"""

from __future__ import annotations

from relaygate.catalog import Catalog, Principal
from relaygate.evaluators.engine import Evaluator, EvaluatorEngine
from relaygate.evaluators.header_secrets import HeaderSecrets
from relaygate.evaluators.router_models import RouterModels
from relaygate.runtime import Runtime
from relaygate.store.evaluators import StoredEvaluator
from relaygate.upstream.ssrf import UpstreamGuard


class CatalogWorkspace:
    """``evaluators.config.Workspace`` from the catalog (a name made a moment ago elsewhere
    is looked up in the store once) and the upstreams' SSRF rules."""

    def __init__(self, catalog: Catalog, guard: UpstreamGuard, workspace_id: str) -> None:
        self._catalog = catalog
        self._guard = guard
        self._workspace_id = workspace_id

    async def model_type(self, router_id: str) -> str | None:
        model = await self._catalog.find_model(self._workspace_id, router_id)
        return model.model_type if model is not None else None

    async def has_deployment(self, key: str) -> bool:
        return await self._catalog.find_deployment(self._workspace_id, key) is not None

    async def check_url(self, url: str) -> None:
        await self._guard.check_url(url)


def workspace_of(runtime: Runtime, principal: Principal) -> CatalogWorkspace:
    settings = runtime.settings
    guard = UpstreamGuard(settings.allow_private_upstreams, settings.upstream_allowlist)
    return CatalogWorkspace(runtime.catalog, guard, principal.workspace_id)


def engine_for(runtime: Runtime, principal: Principal) -> EvaluatorEngine:
    """The engine scoring for ``principal``: its model calls are its key's, limits and usage included."""
    return EvaluatorEngine(
        RouterModels(runtime.router, runtime.catalog, principal),
        runtime.transport,
        header_secrets(runtime, principal),
    )


def header_secrets(runtime: Runtime, principal: Principal) -> HeaderSecrets:
    """Sealing and opening the workspace's http_eval header values."""
    return HeaderSecrets(runtime.catalog.keyring, principal.workspace_id)


def evaluator_of(stored: StoredEvaluator) -> Evaluator:
    return Evaluator(stored.id, stored.key, stored.version, stored.content)
