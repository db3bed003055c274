"""Alert rules for /v2/alerts: checked (kind, references, the webhook's address under the
SSRF rules), their signing secret made and sealed, test deliveries; the background
evaluator (``alerts.runner.AlertRunner``) it holds is started by the runtime."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from relaygate.alerts.kinds import condition
from relaygate.alerts.runner import AlertRunner
from relaygate.alerts.signing import new_secret
from relaygate.catalog import Principal
from relaygate.crypto import CryptoError, Keyring, mask_secret
from relaygate.errors import InvalidRequest, NotFound, UpstreamRefused
from relaygate.store import alerts as store
from relaygate.store import limits as budgets
from relaygate.store import repository
from relaygate.store.alerts import StoredEvent, StoredRule
from relaygate.store.records import new_id, utcnow
from relaygate.upstream.ssrf import UpstreamGuard

from .alert_schemas import AlertRuleCreate, AlertRuleUpdate


def rule_not_found(rule_id: str) -> NotFound:
    return NotFound(
        f"No alert rule with id '{rule_id}' in this workspace.", param="id", code="alert_rule_not_found"
    )


class AlertService:
    def __init__(
        self, engine: AsyncEngine, keyring: Keyring, guard: UpstreamGuard, runner: AlertRunner
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._guard = guard
        self.runner = runner

    async def _check_url(self, url: str) -> str:
        try:
            await self._guard.check_url(url)
        except UpstreamRefused as exc:
            message = exc.message.replace("base_url", "webhook_url")
            raise UpstreamRefused(message, param="webhook_url", code="webhook_not_allowed") from None
        return url

    async def _check_references(self, workspace_id: str, config: dict[str, Any]) -> None:
        if "budget_id" in config:
            budget = await budgets.get_budget(self._engine, workspace_id, config["budget_id"])
            if budget is None or budget.amount_nano is None:
                raise InvalidRequest(
                    f"No spend budget with id '{config['budget_id']}' in this workspace.", param="budget_id"
                )
        if "model" in config:
            models = await repository.list_models(self._engine, workspace_id)
            if not any(model.router_id == config["model"] for model in models):
                raise InvalidRequest(f"No model '{config['model']}' in this workspace.", param="model")

    async def create(self, principal: Principal, body: AlertRuleCreate) -> tuple[StoredRule, str]:
        """The stored rule and its signing secret (shown once)."""
        config = condition(body.kind, body.condition_fields())
        await self._check_references(principal.workspace_id, config)
        url = await self._check_url(body.webhook_url)
        rule_id, secret, now = new_id(), new_secret(), utcnow()
        sealed = self._keyring.seal(secret, associated=rule_id)
        rule = StoredRule(
            id=rule_id,
            workspace_id=principal.workspace_id,
            name=body.name,
            kind=body.kind,
            config=config,
            webhook_url=url,
            secret_ciphertext=sealed.ciphertext,
            secret_key_id=sealed.key_id,
            enabled=body.enabled,
            created_by=principal.key_id,
            created_at=now,
            updated_at=now,
        )
        return await store.insert_rule(self._engine, rule), secret

    async def get(self, workspace_id: str, rule_id: str) -> StoredRule:
        rule = await store.get_rule(self._engine, workspace_id, rule_id)
        if rule is None:
            raise rule_not_found(rule_id)
        return rule

    async def update(self, workspace_id: str, rule_id: str, body: AlertRuleUpdate) -> StoredRule:
        current = await self.get(workspace_id, rule_id)
        values: dict[str, Any] = {}
        given = body.condition_fields(only_set=True)
        if given:
            config = condition(current.kind, {**current.config, **given})
            await self._check_references(workspace_id, config)
            values["config"] = config
        if body.name is not None:
            values["name"] = body.name
        if body.webhook_url is not None:
            values["webhook_url"] = await self._check_url(body.webhook_url)
        if body.enabled is not None:
            values["enabled"] = body.enabled
        if not values:
            return current
        updated = await store.update_rule(self._engine, workspace_id, rule_id, values)
        if updated is None:
            raise rule_not_found(rule_id)
        return updated

    async def delete(self, workspace_id: str, rule_id: str) -> None:
        if not await store.delete_rule(self._engine, workspace_id, rule_id):
            raise rule_not_found(rule_id)

    async def test(self, workspace_id: str, rule_id: str) -> StoredEvent:
        return await self.runner.send_test(await self.get(workspace_id, rule_id))

    def secret_hint(self, rule: StoredRule) -> str:
        try:
            return mask_secret(self.runner.secret_of(rule))
        except CryptoError:
            return "…"  # sealed under a master key this process lacks
