"""Which /v2 writes the audit log records, as what, and how their resource is read (pure).

A write is matched against ``RULES`` (method and path): the match names the resource
type, the action, the resource's id (from the path, or from the answer for a create) and
the GET path that reads the resource as the API shows it, for the before and after
snapshots. A write no rule knows is still recorded (``generic_target``), without
snapshots; the few writes that change nothing (checks, test calls) are ``NOT_CHANGES``.
Snapshots pass through ``scrub`` before they are stored: secrets never reach the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ID = r"(?P<id>[^/]+)"
_PARENT = r"(?P<parent>[^/]+)"
REDACTED = "[redacted]"
# Fields whose values are secrets wherever they appear in a snapshot.
SECRET_FIELDS = frozenset(
    {
        "api_key",
        "secret",
        "signing_secret",
        "webhook_secret",
        "key_hash",
        "api_key_ciphertext",
        "secret_ciphertext",
        "password",
        "authorization",
        "token",
    }
)
# Objects whose every value is a secret (an http evaluator's headers: a bearer token, say).
SECRET_MAPS = frozenset({"headers"})
# Writes that store nothing: credential checks, test calls.
NOT_CHANGES = (
    re.compile(r"^/v2/models/validate$"),
    re.compile(r"^/v2/evaluators(/[^/]+)?/test$"),
    re.compile(r"^/v2/alerts/rules/[^/]+/test$"),
)


@dataclass(frozen=True)
class Rule:
    method: str
    pattern: re.Pattern[str]
    resource: str
    action: str
    reader: str | None  # the GET path, with {id} and {parent}; None: no snapshot
    pick: bool = False  # the reader lists the resources: pick the one with the id


@dataclass(frozen=True)
class Target:
    """One recorded write: what it is about, and where its snapshots are read."""

    resource: str
    action: str
    resource_id: str | None
    reader: str | None
    pick: bool = False

    def with_id(self, resource_id: str | None) -> Target:
        return Target(self.resource, self.action, resource_id, self.reader, self.pick)

    def reader_path(self) -> str | None:
        """The GET path of the snapshot, once the id is known."""
        if self.reader is None or ("{id}" in self.reader and self.resource_id is None):
            return None
        return self.reader.replace("{id}", self.resource_id or "")


def _rule(
    method: str, path: str, resource: str, action: str, reader: str | None, *, pick: bool = False
) -> Rule:
    return Rule(method, re.compile(f"^{path}$"), resource, action, reader, pick)


def _crud(base: str, resource: str, reader: str, *, pick: bool = False) -> tuple[Rule, ...]:
    return (
        _rule("POST", base, resource, "create", reader, pick=pick),
        _rule("PATCH", f"{base}/{_ID}", resource, "update", reader, pick=pick),
        _rule("DELETE", f"{base}/{_ID}", resource, "delete", reader, pick=pick),
    )


RULES: tuple[Rule, ...] = (
    _rule("POST", "/v2/models/openai-like", "model", "create", "/v2/models/{id}"),
    _rule("PATCH", f"/v2/models/openai-like/{_ID}", "model", "update", "/v2/models/{id}"),
    _rule("POST", f"/v2/models/{_ID}/validate", "model", "validate", "/v2/models/{id}"),
    _rule("PATCH", f"/v2/models/{_ID}", "model", "update", "/v2/models/{id}"),
    _rule("DELETE", f"/v2/models/{_ID}", "model", "delete", "/v2/models/{id}"),
    *_crud("/v2/api-keys", "api_key", "/v2/api-keys", pick=True),
    *_crud("/v2/budgets", "budget", "/v2/budgets/{id}"),
    *_crud("/v2/deployments", "deployment", "/v2/deployments/{id}"),
    _rule("POST", f"/v2/deployments/{_ID}/rollback", "deployment", "rollback", "/v2/deployments/{id}"),
    _rule(
        "PATCH",
        f"/v2/datasets/{_PARENT}/datapoints/{_ID}",
        "datapoint",
        "update",
        "/v2/datasets/{parent}/datapoints/{id}",
    ),
    _rule(
        "DELETE",
        f"/v2/datasets/{_PARENT}/datapoints/{_ID}",
        "datapoint",
        "delete",
        "/v2/datasets/{parent}/datapoints/{id}",
    ),
    _rule(
        "POST",
        f"/v2/datasets/{_ID}/(datapoints|datapoints/bulk|import|from-traffic)",
        "dataset",
        "add_datapoints",
        "/v2/datasets/{id}",
    ),
    _rule(
        "POST",
        f"/v2/datasets/{_ID}/datapoints-bulk-delete",
        "dataset",
        "delete_datapoints",
        "/v2/datasets/{id}",
    ),
    _rule("DELETE", f"/v2/datasets/{_ID}/clear", "dataset", "clear", "/v2/datasets/{id}"),
    *_crud("/v2/datasets", "dataset", "/v2/datasets/{id}"),
    *_crud("/v2/evaluators", "evaluator", "/v2/evaluators/{id}"),
    *(
        _rule("POST", f"/v2/experiments/{_ID}/{verb}", "experiment", verb, "/v2/experiments/{id}")
        for verb in ("start", "pause", "cancel", "resume")
    ),
    *_crud("/v2/experiments", "experiment", "/v2/experiments/{id}"),
    _rule("PUT", "/v2/search/backend", "search_backend", "set", "/v2/search/backend"),
    _rule("DELETE", "/v2/search/backend", "search_backend", "delete", "/v2/search/backend"),
    *_crud("/v2/alerts/rules", "alert_rule", "/v2/alerts/rules/{id}"),
    # Workspace settings: the id is the setting's name.
    _rule("PATCH", "/v2/workspace/(?P<id>logging)", "workspace_setting", "update", "/v2/workspace/logging"),
    _rule("POST", "/v2/workspace/(?P<id>logging)/sweep", "workspace_setting", "sweep", None),
)
_ACTIONS = {"POST": "create", "PUT": "set", "PATCH": "update", "DELETE": "delete"}
WRITES = frozenset(_ACTIONS)


def generic_target(method: str, path: str) -> Target:
    """A write no rule describes: its resource type and id from the path, no snapshots."""
    parts = [part for part in path.split("/") if part][1:]  # after "v2"
    resource = (parts[0] if parts else "workspace").replace("-", "_")
    resource_id = parts[1] if len(parts) > 1 else None
    action = _ACTIONS.get(method, method.lower())
    if len(parts) > 2:
        action = f"{action}:{'/'.join(parts[2:])}"[:32]
    return Target(resource[:32], action, resource_id, None)


def target_of(method: str, path: str) -> Target | None:
    """What a request changes, or None when it is no write of the /v2 API (or changes nothing)."""
    if method not in WRITES or not path.startswith("/v2/") or any(p.match(path) for p in NOT_CHANGES):
        return None
    for rule in RULES:
        if rule.method != method:
            continue
        found = rule.pattern.match(path)
        if found is None:
            continue
        groups = found.groupdict()
        reader = rule.reader
        if reader is not None and groups.get("parent") is not None:
            reader = reader.replace("{parent}", groups["parent"])
        return Target(rule.resource, rule.action, groups.get("id"), reader, rule.pick)
    return generic_target(method, path)


def scrub(value: Any) -> Any:
    """``value`` with every secret replaced by ``REDACTED`` (names kept: the change shows)."""
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for name, item in value.items():
            lowered = str(name).lower()
            if lowered in SECRET_FIELDS and item is not None:
                cleaned[name] = REDACTED
            elif lowered in SECRET_MAPS and isinstance(item, dict):
                cleaned[name] = dict.fromkeys(item, REDACTED)
            else:
                cleaned[name] = scrub(item)
        return cleaned
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def picked(listing: Any, resource_id: str) -> Any:
    """The object with ``resource_id`` from a list answer (``{"data": [...]}``), or None."""
    items = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(items, list):
        return None
    return next((item for item in items if isinstance(item, dict) and item.get("id") == resource_id), None)
