"""A deployment's current version as the data plane serves it, and the variant a call gets.

The control plane validates and stores a version's content (``deployment_versions.content``);
the catalog turns the current version of every deployment into a frozen ``Release`` at each
rebuild, so invoking a deployment costs dict lookups and no store query.

A variant names the context it serves (``{"environments": "production", "locale": "en"}``)
and may replace the default's model and messages and add to its parameters. A call's
``context`` gets the variant all of whose rules match it; when several do, the one with
the most rules (the most specific), then the first declared; when none does, the default.
A rule's value may be a list, meaning any of its values; a context value may be a list
too (``environments: ["production", "eu"]``), matching when any of its values does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relaygate.deployments.template import variables

DEFAULT_VARIANT = "default"
ROUTING_KEYS = ("fallbacks", "retry", "timeout", "cache")


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    context: Mapping[str, Any]  # the rules; empty for the default
    model: str  # a router id of the deployment's workspace
    messages: tuple[Mapping[str, Any], ...]
    parameters: Mapping[str, Any]  # OpenAI chat parameters (temperature, max_tokens, tools, ...)
    variables: tuple[str, ...]

    def matches(self, context: Mapping[str, Any]) -> bool:
        return all(_matches(rule, context.get(field)) for field, rule in self.context.items())


def _as_set(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(rule: Any, value: Any) -> bool:
    if value is None:
        return False
    wanted = _as_set(rule)
    return any(item in wanted for item in _as_set(value))


@dataclass(frozen=True, slots=True)
class Release:
    """The current version of one deployment."""

    id: str
    workspace_id: str
    key: str
    version: int
    version_id: str
    display_name: str
    description: str
    default: Variant
    variants: tuple[Variant, ...]
    routing: Mapping[str, Any]  # fallbacks, retry, timeout, cache: the router's routing fields
    updated_at: datetime

    def variant_for(self, context: Mapping[str, Any] | None) -> Variant:
        """The variant serving ``context`` (see the module's docstring)."""
        if not context or not self.variants:
            return self.default
        best: Variant | None = None
        for variant in self.variants:
            specific = best is None or len(variant.context) > len(best.context)
            if variant.context and specific and variant.matches(context):
                best = variant
        return best or self.default

    @property
    def models(self) -> tuple[str, ...]:
        """Every router id this release may call: its variants' models and its fallbacks."""
        named = [self.default.model, *(variant.model for variant in self.variants)]
        named += [entry["model"] for entry in self.routing.get("fallbacks", ()) if isinstance(entry, dict)]
        return tuple(dict.fromkeys(named))


def _variant(
    name: str,
    context: Mapping[str, Any],
    model: str,
    messages: Sequence[Mapping[str, Any]],
    parameters: Mapping[str, Any],
) -> Variant:
    return Variant(name, dict(context), model, tuple(messages), dict(parameters), tuple(variables(messages)))


def variants_of(content: Mapping[str, Any]) -> tuple[Variant, tuple[Variant, ...]]:
    """The default and the declared variants of a version's content. A variant leaves out
    what it keeps of the default: model, messages; its parameters are laid over the default's."""
    model, messages = content["model"], content.get("messages") or []
    parameters = content.get("parameters") or {}
    default = _variant(DEFAULT_VARIANT, {}, model, messages, parameters)
    declared = []
    for index, entry in enumerate(content.get("variants") or []):
        declared.append(
            _variant(
                entry.get("name") or f"variant-{index + 1}",
                entry.get("context") or {},
                entry.get("model") or model,
                entry["messages"] if entry.get("messages") is not None else messages,
                {**parameters, **(entry.get("parameters") or {})},
            )
        )
    return default, tuple(declared)


def release_of(
    deployment_id: str,
    workspace_id: str,
    key: str,
    version: int,
    version_id: str,
    content: Mapping[str, Any],
    updated_at: datetime,
) -> Release:
    """A stored version's content as the ``Release`` the data plane serves."""
    default, declared = variants_of(content)
    routing = {name: content[name] for name in ROUTING_KEYS if content.get(name)}
    return Release(
        id=deployment_id,
        workspace_id=workspace_id,
        key=key,
        version=version,
        version_id=version_id,
        display_name=content.get("display_name") or key,
        description=content.get("description") or "",
        default=default,
        variants=declared,
        routing=routing,
        updated_at=updated_at,
    )


def required_variables(content: Mapping[str, Any]) -> list[str]:
    """Every variable any of the version's variants needs, each once (shown with the deployment)."""
    default, declared = variants_of(content)
    found: dict[str, None] = {}
    for variant in (default, *declared):
        found.update(dict.fromkeys(variant.variables))
    return list(found)
