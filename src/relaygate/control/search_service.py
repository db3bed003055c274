"""Setting a workspace's web search backend: its address checked, its key sealed, nothing shown back.

The address obeys the rules of a model's upstream (``upstream/ssrf.py``): a SearXNG on a
private network needs ``RELAYGATE_ALLOW_PRIVATE_UPSTREAMS`` or the host in
``RELAYGATE_UPSTREAM_ALLOWLIST``. The key is sealed under the master key, bound to the
row's id, like an upstream key; a stored key is never sent to a new address (changing
``kind`` or ``base_url`` asks for the key again). Each write refreshes the catalog, where
the data plane reads the backend.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import Catalog
from relaygate.crypto import Keyring, mask_secret
from relaygate.errors import InvalidRequest, NotFound
from relaygate.store import search_backends
from relaygate.store.records import new_id, utcnow
from relaygate.store.search_backends import SearchBackendRecord
from relaygate.upstream.ssrf import UpstreamGuard
from relaygate.web_search.config import DEFAULT_BASE_URLS, KEY_REQUIRED

from .search_protocol import SearchBackendObject, SearchBackendSet

HOW_TO_SET = "Set one with PUT /v2/search/backend, or in Studio under Web search (/studio/search)."


def not_configured() -> NotFound:
    return NotFound(
        f"This workspace has no web search backend. {HOW_TO_SET}", code="search_backend_not_configured"
    )


def _price_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def backend_object(record: SearchBackendRecord) -> SearchBackendObject:
    return SearchBackendObject(
        object="search.backend",
        id=record.id,
        kind=record.kind,  # type: ignore[arg-type]  # stored from a BackendKind
        base_url=record.base_url,
        api_key_hint=record.api_key_hint,
        max_searches=record.max_searches,
        timeout_s=record.timeout_s,
        cache_ttl_s=record.cache_ttl_s,
        price_per_1000=record.price_per_1000,
        prefer_relaygate=record.prefer_relaygate,
        created_at=record.created_at.isoformat().replace("+00:00", "Z"),
        updated_at=record.updated_at.isoformat().replace("+00:00", "Z"),
    )


class SearchBackendService:
    def __init__(self, engine: AsyncEngine, keyring: Keyring, guard: UpstreamGuard, catalog: Catalog) -> None:
        self._engine = engine
        self._keyring = keyring
        self._guard = guard
        self._catalog = catalog

    async def get(self, workspace_id: str) -> SearchBackendRecord:
        record = await search_backends.get_backend(self._engine, workspace_id)
        if record is None:
            raise not_configured()
        return record

    async def put(self, workspace_id: str, body: SearchBackendSet) -> SearchBackendRecord:
        current = await search_backends.get_backend(self._engine, workspace_id)
        base_url = (body.base_url or DEFAULT_BASE_URLS.get(body.kind, "")).rstrip("/")
        if not base_url:
            raise InvalidRequest(
                "A searxng backend needs base_url: the address of your SearXNG instance "
                "(e.g. http://searxng:8080), whose JSON format is enabled in its settings.yml.",
                param="base_url",
                code="base_url_required",
            )
        await self._guard.check_url(base_url)
        moved = current is not None and (current.kind != body.kind or current.base_url != base_url)
        if current is not None and current.api_key_hint is not None and moved and body.api_key is None:
            raise InvalidRequest(
                "Changing kind or base_url requires the api_key again: the stored key is never sent "
                'to a new address (send "" for a backend that takes no key).',
                param="api_key",
                code="api_key_required",
            )
        row_id = current.id if current is not None else new_id()
        sealed = self._key_columns(row_id, body, current)
        if body.kind in KEY_REQUIRED and sealed[2] is None:
            raise InvalidRequest(
                f"A {body.kind} backend needs its api_key.", param="api_key", code="api_key_required"
            )
        now = utcnow()
        record = SearchBackendRecord(
            id=row_id,
            workspace_id=workspace_id,
            kind=body.kind,
            base_url=base_url,
            api_key_ciphertext=sealed[0],
            api_key_key_id=sealed[1],
            api_key_hint=sealed[2],
            max_searches=body.max_searches,
            timeout_s=body.timeout_s,
            cache_ttl_s=body.cache_ttl_s,
            price_per_1000=_price_text(body.price_per_1000),
            prefer_relaygate=body.prefer_relaygate,
            created_at=current.created_at if current is not None else now,
            updated_at=now,
        )
        await search_backends.put_backend(self._engine, record)
        await self._catalog.refresh()
        return record

    def _key_columns(
        self, row_id: str, body: SearchBackendSet, current: SearchBackendRecord | None
    ) -> tuple[bytes | None, str | None, str | None]:
        """Ciphertext, master key id and hint of the key to store (all None: no key)."""
        if body.api_key is None:
            if current is None:
                return None, None, None
            return current.api_key_ciphertext, current.api_key_key_id, current.api_key_hint
        if not body.api_key:
            return None, None, None
        sealed = self._keyring.seal(body.api_key, associated=row_id)
        return sealed.ciphertext, sealed.key_id, mask_secret(body.api_key)

    async def delete(self, workspace_id: str) -> None:
        if not await search_backends.delete_backend(self._engine, workspace_id):
            raise not_configured()
        await self._catalog.refresh()
