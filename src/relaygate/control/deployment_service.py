"""Creating, changing, rolling back and reading deployments: check, store, then tell the catalog.

Every change is checked against the workspace's models as the store has them now (not
the catalog, which may lag a write made elsewhere by a moment), stored as a new version,
and followed by ``catalog.refresh()``, so this process serves it at once and every other
one within the push. Another workspace's deployment reads exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import Catalog, Principal
from relaygate.deployments import validation
from relaygate.deployments.validation import WorkspaceModels
from relaygate.errors import Conflict, InvalidRequest, NotFound
from relaygate.store import deployments as store
from relaygate.store import repository
from relaygate.store.deployments import Deployment, DeploymentVersion, Page
from relaygate.store.records import Model

from .deployment_view import variant_named

WRITE_ATTEMPTS = 5  # plans of one change, each on the version another change just made
Planned = tuple[dict[str, Any], str | None]  # the next version's content and note
VersionPlan = Callable[[Deployment, WorkspaceModels], Awaitable[Planned | None]]


def _not_found(key_or_id: str) -> NotFound:
    return NotFound(
        f"No deployment with key or id '{key_or_id}' in this workspace.",
        param="key",
        code="deployment_not_found",
    )


def _raced(key: str) -> Conflict:
    return Conflict(
        f"The deployment '{key}' kept getting new versions while this change was made; "
        "read it again and repeat the change.",
        code="version_conflict",
    )


def cursors(starting_after: str | None, ending_before: str | None) -> None:
    if starting_after is not None and ending_before is not None:
        raise InvalidRequest(
            "Give starting_after or ending_before, not both: one page is read in one direction.",
            param="ending_before",
        )


class DeploymentService:
    def __init__(self, engine: AsyncEngine, catalog: Catalog) -> None:
        self._engine = engine
        self._catalog = catalog

    async def models(self, workspace_id: str) -> dict[str, Model]:
        """The workspace's models by router id (disabled ones too: lists still describe them)."""
        return {model.router_id: model for model in await repository.list_models(self._engine, workspace_id)}

    async def _served(self, workspace_id: str) -> dict[str, str]:
        models = await self.models(workspace_id)
        return {router_id: model.model_type for router_id, model in models.items() if model.enabled}

    async def get(self, workspace_id: str, key_or_id: str) -> Deployment:
        deployment = await store.get(self._engine, workspace_id, key_or_id)
        if deployment is None:
            raise _not_found(key_or_id)
        return deployment

    async def create(self, principal: Principal, body: Mapping[str, Any]) -> Deployment:
        key, content = validation.created(body, await self._served(principal.workspace_id))
        try:
            deployment = await store.create(
                self._engine, principal.workspace_id, key, content, principal.key_id
            )
        except repository.DuplicateError:
            raise Conflict(
                f"A deployment with key '{key}' already exists in this workspace; "
                "change it with PATCH /v2/deployments/{key}, or choose another key.",
                param="key",
                code="deployment_exists",
            ) from None
        await self._catalog.refresh()
        return deployment

    async def _write(self, principal: Principal, key_or_id: str, plan: VersionPlan) -> Deployment:
        """Plan the next version from the current one and store it. When another change
        came first, plan again on top of it: a PATCH replaces fields of whatever is current."""
        served = await self._served(principal.workspace_id)
        for _ in range(WRITE_ATTEMPTS):
            current = await self.get(principal.workspace_id, key_or_id)
            planned = await plan(current, served)
            if planned is None:
                return current
            content, note = planned
            try:
                changed = await store.add_version(
                    self._engine, current, content, note=note, created_by=principal.key_id
                )
            except store.StaleVersion:
                continue
            await self._catalog.refresh()
            return changed
        raise _raced(key_or_id)

    async def update(self, principal: Principal, key_or_id: str, body: Mapping[str, Any]) -> Deployment:
        """A new version with the fields given replaced; none when nothing changes."""

        async def replaced(current: Deployment, served: WorkspaceModels) -> Planned | None:
            content = validation.changed(current.content, body, current.key, served)
            return None if content == current.content else (content, None)

        return await self._write(principal, key_or_id, replaced)

    async def rollback(self, principal: Principal, key_or_id: str, number: int) -> Deployment:
        """Version ``number``'s content as a new version (history is kept, never rewritten)."""

        async def restored(current: Deployment, served: WorkspaceModels) -> Planned:
            return await self._restored(current, number, served)

        return await self._write(principal, key_or_id, restored)

    async def _restored(self, current: Deployment, number: int, served: WorkspaceModels) -> Planned:
        if number == current.version:
            raise InvalidRequest(
                f"Version {number} is already the current version of '{current.key}'.",
                param="version",
                code="already_current",
            )
        old = await store.get_version(self._engine, current.id, number)
        if old is None:
            raise NotFound(
                f"The deployment '{current.key}' has no version {number} "
                f"(its versions are 1 to {current.version}).",
                param="version",
                code="version_not_found",
            )
        try:  # its models may have gone or changed type since
            content = validation.normalise(old.content, current.key, served)
        except InvalidRequest as error:
            raise InvalidRequest(
                f"Version {number} cannot become current again: {error.message}",
                param="version",
                code=error.code,
            ) from None
        return content, f"rollback to version {number}"

    async def delete(self, workspace_id: str, key_or_id: str) -> Deployment:
        deployment = await self.get(workspace_id, key_or_id)
        if not await store.delete_deployment(self._engine, workspace_id, deployment.id):
            raise _not_found(key_or_id)  # deleted by another request meanwhile
        await self._catalog.refresh()
        return deployment

    async def page(
        self, workspace_id: str, limit: int, starting_after: str | None, ending_before: str | None
    ) -> Page[Deployment]:
        cursors(starting_after, ending_before)
        return await store.list_page(
            self._engine, workspace_id, limit, after=starting_after, before=ending_before
        )

    async def _version_cursor(self, deployment: Deployment, version_id: str | None, param: str) -> int | None:
        if version_id is None:
            return None
        number = await store.version_number(self._engine, deployment.id, version_id)
        if number is None:
            raise InvalidRequest(
                f"'{version_id}' is not the id of a version of '{deployment.key}' "
                "(the cursor is a version's _id from a previous page).",
                param=param,
                code="invalid_cursor",
            )
        return number

    async def versions(
        self,
        deployment: Deployment,
        limit: int,
        starting_after: str | None,
        ending_before: str | None,
        variant: str | None,
    ) -> Page[DeploymentVersion]:
        """A page of the deployment's versions, newest first; with ``variant``, only those that have it."""
        cursors(starting_after, ending_before)
        after = await self._version_cursor(deployment, starting_after, "starting_after")
        before = await self._version_cursor(deployment, ending_before, "ending_before")
        keep = None if variant is None else _having(variant)
        return await store.versions_page(
            self._engine, deployment.id, limit, after=after, before=before, keep=keep
        )


def _having(variant: str) -> Callable[[DeploymentVersion], bool]:
    def has_variant(version: DeploymentVersion) -> bool:
        return variant_named(version.content, variant) is not None

    return has_variant
