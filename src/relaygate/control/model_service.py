"""Creating, changing and validating models: probe first, store only what passed."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.catalog import Catalog
from relaygate.crypto import CryptoError, Keyring, Sealed, mask_secret
from relaygate.errors import Conflict, InvalidRequest, NotFound, ValidationFailed
from relaygate.security.redaction import redact
from relaygate.store import deployments, repository
from relaygate.store.records import Model, new_id, utcnow
from relaygate.upstream.claims import settle_capabilities
from relaygate.upstream.probe import Prober
from relaygate.upstream.probe_findings import CheckListener, ProbeReport
from relaygate.upstream.ssrf import UpstreamGuard, literal_ip

from .probe_quota import ProbeQuota
from .schemas import CredentialsCheck, ModelCreate, ModelFields, ModelUpdate

_GENERIC_LABELS = {
    "api",
    "www",
    "inference",
    "openai",
    "v1",
    "com",
    "ai",
    "io",
    "net",
    "org",
    "xyz",
    "dev",
    "co",
}


# A type the probe checks by ``GET /models`` alone unless ``full``: a credentials check makes no paid call.


def derive_provider(base_url: str, guard: UpstreamGuard) -> str:
    """``https://api.groq.com/openai/v1`` -> ``groq``; an IP or unusual host -> a slug of it."""
    host = guard.parse(base_url).host
    if literal_ip(host) is not None:
        return re.sub(r"[^a-z0-9]+", "-", host.strip("[]")).strip("-") or "custom"
    labels = [label for label in host.split(".") if label]
    meaningful = [label for label in labels[:-1] if label not in _GENERIC_LABELS] or labels
    if "openai" in labels and meaningful == labels:
        return "openai"
    slug = re.sub(r"[^a-z0-9._-]+", "-", meaningful[0].lower()).strip("-")
    return slug or "custom"


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _redacted_report(report: dict[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    checks = report.get("checks")
    if not isinstance(checks, list):
        return report
    return {
        **report,
        "checks": [
            {**check, "message": redact(str(check.get("message", "")), secrets)}
            if isinstance(check, dict)
            else check
            for check in checks
        ],
    }


def _failure(report: ProbeReport, otherwise: str = "model_id") -> ValidationFailed:
    """The error for a failed probe; ``otherwise``: the param blamed when neither address nor key failed."""
    failed = report.failed
    if failed is None:
        raise ValueError("_failure() takes a failed report")
    return ValidationFailed(
        f"Validation failed at the {failed.name} check: {failed.message}",
        param="base_url"
        if failed.name == "connectivity"
        else "api_key"
        if failed.name == "authentication"
        else otherwise,
        code=f"{failed.name}_failed",
        extra={"validation": report.as_dict()},
    )


def _unverified(report: ProbeReport) -> ValidationFailed | None:
    """No failure, yet no passed key check (no ``/models`` listing): not a confirmation."""
    if any(check.name == "authentication" and check.status == "passed" for check in report.checks):
        return None
    return ValidationFailed(
        "Could not verify the API key: the upstream answered no /models listing at this base_url "
        "(relaygate checks credentials by listing only, never with a paid call).",
        param="base_url",
        code="authentication_unverified",
        extra={"validation": report.as_dict()},
    )


class ModelService:
    def __init__(
        self,
        engine: AsyncEngine,
        keyring: Keyring,
        guard: UpstreamGuard,
        prober: Prober,
        catalog: Catalog,
        probe_quota: ProbeQuota | None = None,
    ) -> None:
        self._probe_quota = probe_quota or ProbeQuota(0)
        self._engine = engine
        self._keyring = keyring
        self._guard = guard
        self._prober = prober
        self._catalog = catalog

    async def get(self, workspace_id: str, model_id: str) -> Model:
        model = await repository.get_model(self._engine, workspace_id, model_id)
        if model is None:
            raise NotFound(
                f"No model with id '{model_id}' in this workspace.", param="id", code="model_not_found"
            )
        return self._scrubbed(model)

    async def list(self, workspace_id: str) -> list[Model]:
        return [self._scrubbed(model) for model in await repository.list_models(self._engine, workspace_id)]

    def _scrubbed(self, model: Model) -> Model:
        """The model with its report redacted: one stored before redaction may quote the key.

        The next validation or change stores the redacted report in its place."""
        if not model.validation:
            return model
        try:
            secrets: tuple[str, ...] = (self._current_key(model),)
        except CryptoError:
            secrets = ()  # still redacts bearer and key-like tokens
        return dataclasses.replace(model, validation=_redacted_report(model.validation, secrets))

    async def _ensure_free(self, workspace_id: str, router_id: str, own_id: str | None = None) -> None:
        for model in await repository.list_models(self._engine, workspace_id):
            if model.router_id == router_id and model.id != own_id:
                raise Conflict(
                    f"A model with router id '{router_id}' already exists in this workspace; "
                    "choose another provider slug or model_id.",
                    param="model_id",
                    code="model_exists",
                )

    async def _probe(
        self,
        workspace_id: str,
        base_url: str,
        api_key: str,
        model_id: str,
        model_type: str,
        listener: CheckListener | None,
        *,
        claims: Mapping[str, bool] | None = None,
        full: bool = False,
    ) -> ProbeReport:
        await self._guard.check_url(base_url)
        self._probe_quota.take(workspace_id)
        report = await self._prober.probe(
            base_url, api_key, model_id, model_type, listener, claims=claims, full=full
        )
        if report.failed is not None:
            raise _failure(report)
        return report

    def _fields(self, body: ModelFields) -> dict[str, Any]:
        return {
            "display_name": body.display_name,
            "model_type": body.model_type,
            "region": body.region,
            "description": body.description,
            "max_tokens": body.max_tokens,
            "temperature": body.temperature,
            "input_cost": _decimal_text(body.input_cost),
            "output_cost": _decimal_text(body.output_cost),
            "cost_per_image": _decimal_text(body.cost_per_image),
            "cache_read_cost": _decimal_text(body.cache_read_cost),
            "cache_write_cost": _decimal_text(body.cache_write_cost),
        }

    def _seal(self, model_id: str, api_key: str) -> dict[str, Any]:
        sealed = self._keyring.seal(api_key, associated=model_id)
        return {
            "api_key_ciphertext": sealed.ciphertext,
            "api_key_key_id": sealed.key_id,
            "api_key_hint": mask_secret(api_key),
        }

    async def create(
        self, workspace_id: str, body: ModelCreate, listener: CheckListener | None = None
    ) -> Model:
        provider = body.provider or derive_provider(body.base_url, self._guard)
        router_id = f"{provider}/{body.model_id}"
        await self._ensure_free(workspace_id, router_id)
        claims = body.capabilities()
        report = await self._probe(
            workspace_id,
            body.base_url,
            body.api_key,
            body.model_id,
            body.model_type,
            listener,
            claims=claims,
            full=body.full_probe,
        )
        now = utcnow()
        model_id = new_id()
        model = Model(
            id=model_id,
            workspace_id=workspace_id,
            router_id=router_id,
            provider=provider,
            model_id=body.model_id,
            base_url=body.base_url.rstrip("/"),
            capabilities=settle_capabilities(claims, report.verified, force=body.force, given=claims),
            configuration=body.configuration or {},
            validation=report.as_dict(),
            enabled=body.enabled if body.enabled is not None else True,
            created_at=now,
            updated_at=now,
            **self._fields(body),
            **self._seal(model_id, body.api_key),
        )
        try:
            await repository.insert_model(self._engine, model)
        except repository.DuplicateError as exc:
            raise Conflict(str(exc), param="model_id", code="model_exists") from None
        await self._catalog.refresh()
        return model

    def _current_key(self, model: Model) -> str:
        return self._keyring.open(Sealed(model.api_key_key_id, model.api_key_ciphertext), associated=model.id)

    async def update(
        self, workspace_id: str, model_id: str, body: ModelUpdate, listener: CheckListener | None = None
    ) -> Model:
        current = await self.get(workspace_id, model_id)
        base_url = (body.base_url or current.base_url).rstrip("/")
        if base_url != current.base_url and body.api_key is None:
            raise InvalidRequest(
                "Changing base_url requires the api_key again: "
                "the stored key is never sent to a new address.",
                param="api_key",
                code="api_key_required",
            )
        upstream_model = body.model_id or current.model_id
        provider = body.provider or current.provider
        router_id = f"{provider}/{upstream_model}"
        if router_id != current.router_id:
            await self._ensure_free(workspace_id, router_id, own_id=current.id)
        api_key = body.api_key if body.api_key is not None else self._current_key(current)
        given = body.model_fields_set | {"display_name", "model_type"}
        changes: dict[str, Any] = {key: value for key, value in self._fields(body).items() if key in given}
        connection_changed = (
            base_url != current.base_url
            or body.api_key is not None
            or upstream_model != current.model_id
            or body.model_type != current.model_type
        )
        claimed_now = body.capabilities()
        capabilities = {**current.capabilities, **claimed_now}
        newly_claimed = any(on and not current.capabilities.get(name) for name, on in claimed_now.items())
        if connection_changed or newly_claimed or body.full_probe:
            report = await self._probe(
                workspace_id,
                base_url,
                api_key,
                upstream_model,
                body.model_type,
                listener,
                claims=capabilities,
                full=body.full_probe,
            )
            changes["validation"] = report.as_dict()
            capabilities = settle_capabilities(
                capabilities, report.verified, force=body.force, given=claimed_now
            )
        if body.api_key is not None:
            changes.update(self._seal(current.id, body.api_key))
        updated = dataclasses.replace(
            current,
            **changes,
            base_url=base_url,
            model_id=upstream_model,
            provider=provider,
            router_id=router_id,
            capabilities=capabilities,
            configuration=body.configuration if body.configuration is not None else current.configuration,
            enabled=body.enabled if body.enabled is not None else current.enabled,
            updated_at=utcnow(),
        )
        try:
            await repository.replace_model(self._engine, updated)
        except repository.DuplicateError as exc:
            raise Conflict(str(exc), param="model_id", code="model_exists") from None
        await self._catalog.refresh()
        return updated

    async def validate(
        self, workspace_id: str, model_id: str, listener: CheckListener | None = None
    ) -> Model:
        current = await self.get(workspace_id, model_id)
        await self._guard.check_url(current.base_url)
        self._probe_quota.take(workspace_id)
        report = await self._prober.probe(
            current.base_url,
            self._current_key(current),
            current.model_id,
            current.model_type,
            listener,
            claims=current.capabilities,  # reported; the stored flags change only by create/PATCH
        )
        updated = dataclasses.replace(current, validation=report.as_dict(), updated_at=utcnow())
        await repository.replace_model(self._engine, updated)
        await self._catalog.refresh()
        if report.failed is not None:
            raise _failure(report)
        return updated

    async def check_credentials(self, workspace_id: str, body: CredentialsCheck) -> None:
        """Is the upstream reachable and does it take the key? Probed like a model, nothing stored."""
        if not body.base_url:
            raise InvalidRequest(
                "base_url is required: relaygate treats every provider as OpenAI-compatible "
                "and knows no default address for one (e.g. https://api.groq.com/openai/v1).",
                param="base_url",
                code="base_url_required",
            )
        await self._guard.check_url(body.base_url)
        self._probe_quota.take(workspace_id)
        report = await self._prober.check_access(body.base_url, body.api_key)
        problem = _failure(report, otherwise="base_url") if report.failed is not None else _unverified(report)
        if problem is not None:
            raise problem

    async def delete(self, workspace_id: str, model_id: str, *, force: bool = False) -> None:
        """A 409 naming the deployments whose current version calls the model, unless ``force``
        (they then fail at call time until they are changed)."""
        if not force:
            model = await self.get(workspace_id, model_id)
            users = await deployments.keys_using(self._engine, workspace_id, model.router_id)
            if users:
                listed = ", ".join(f"'{key}'" for key in users)
                raise Conflict(
                    f"The model '{model.router_id}' is used by the deployments {listed}: change them "
                    "to another model first, or delete it anyway with ?force=true.",
                    param="id",
                    code="model_in_use",
                    extra={"deployments": users},
                )
        if not await repository.delete_model(self._engine, workspace_id, model_id):
            raise NotFound(
                f"No model with id '{model_id}' in this workspace.", param="id", code="model_not_found"
            )
        await self._catalog.refresh()
