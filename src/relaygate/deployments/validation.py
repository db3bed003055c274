"""A deployment's key and a version's content, checked and normalised before they are stored.

Pure: the workspace's models come in as a mapping (router id -> model type of each
enabled model), so the same checks run in-process in tests. What is stored is the
normalised content (``deployment_versions.content``, read by ``config.py``): defaults
filled (display name, variant names, the cache's ttl), empty policy left out, every model
a chat model of the workspace. A field relaygate does not know, or knows as a feature it
does not have (knowledge bases, guardrails), is a 400 naming it rather than silence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from relaygate.errors import InvalidRequest

from . import routing_rules
from .config import DEFAULT_VARIANT
from .fields import a_list, an_object, at, invalid, is_scalar, only_known, text
from .prompt_check import check_messages, check_parameters

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_KEY_LENGTH = 128
MAX_NAME_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 4096
VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SERVED_TYPE = "chat"  # completion models are not served through deployments

CONTENT_FIELDS = (
    "display_name",
    "description",
    "model",
    "messages",
    "parameters",
    "variants",
    "fallbacks",
    "retry",
    "timeout",
    "cache",
)
REQUIRED_FIELDS = ("model", "messages")
CREATE_FIELDS = ("key", *CONTENT_FIELDS)
VARIANT_FIELDS = ("name", "context", "model", "messages", "parameters")
# The hosted product's deployment fields for features relaygate does not have.
MISSING_FEATURES = {
    "knowledge_bases": "knowledge bases (retrieval)",
    "knowledge_filter": "knowledge bases (retrieval)",
    "guardrails": "guardrails",
    "evaluators": "evaluators",
    "settings": "guardrails, evaluators and masking settings",
    "memory_stores": "memory stores",
    "load_balancer": "load balancing across models (a deployment's 'fallbacks' name where it fails over)",
    "tools": "top-level tools (give function tools in 'parameters.tools')",
}
CACHE_TYPE_SPELLINGS = {"exact": "exact_match", "exact_match": "exact_match"}

WorkspaceModels = Mapping[str, str]  # router id -> model type, enabled models only


def check_key(value: Any) -> str:
    key = text(value, "key", empty=False)
    if len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.match(key):
        raise invalid(
            "key",
            f"must be 1-{MAX_KEY_LENGTH} letters, digits, '_', '.' or '-', starting with a letter or "
            "digit (no '/': the router calls a deployment 'deployment/<key>').",
        )
    return key


def check_fields(body: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """A 400 for a field of a feature relaygate lacks (saying so), then for any other unknown field."""
    for name in body:
        if name in MISSING_FEATURES and name not in known:
            raise invalid(
                name, f"relaygate has no {MISSING_FEATURES[name]}; leave this field out.", "unsupported_field"
            )
    only_known(body, known, "")


def _model(value: Any, param: str, models: WorkspaceModels) -> str:
    name = text(value, param, empty=False)
    model_type = models.get(name)
    if model_type is None:
        raise invalid(
            param,
            f"the model '{name}' is not an enabled model of this workspace (use its router id, "
            "'provider/model-id', as GET /v2/models shows it).",
            "model_not_found",
        )
    if model_type != SERVED_TYPE:
        message = f"'{name}' is a {model_type} model; a deployment serves chat models only."
        raise invalid(param, message, "wrong_model_type")
    return name


def _context(value: Any, param: str) -> dict[str, Any]:
    context = an_object(value, param)
    if not context:
        raise invalid(param, 'must name at least one field, like {"environments": "production"}.')
    for field, rule in context.items():
        here = at(param, field)
        if not field.strip():
            raise invalid(param, "a context field's name must not be empty.")
        values = rule if isinstance(rule, list) else [rule]
        if not values or not all(is_scalar(item) for item in values):
            raise invalid(here, "must be a string, number or boolean, or a non-empty list of them.")
    return context


def _variant(value: Any, index: int, models: WorkspaceModels) -> dict[str, Any]:
    where = at("variants", index)
    entry = {name: item for name, item in an_object(value, where).items() if item is not None}
    only_known(entry, VARIANT_FIELDS, where)
    name = text(entry.get("name", f"variant-{index + 1}"), at(where, "name"))
    if not VARIANT_NAME.match(name) or name == DEFAULT_VARIANT:
        raise invalid(
            at(where, "name"),
            f"must be 1-64 letters, digits, '_', '.' or '-', and not '{DEFAULT_VARIANT}' "
            "(the name of the deployment's own prompt).",
        )
    variant: dict[str, Any] = {"name": name, "context": _context(entry.get("context"), at(where, "context"))}
    if "model" in entry:
        variant["model"] = _model(entry["model"], at(where, "model"), models)
    if "messages" in entry:
        variant["messages"] = check_messages(entry["messages"], at(where, "messages"))
    if "parameters" in entry:
        variant["parameters"] = check_parameters(entry["parameters"], at(where, "parameters"))
    return variant


def _variants(value: Any, models: WorkspaceModels) -> list[dict[str, Any]]:
    variants = [_variant(entry, index, models) for index, entry in enumerate(a_list(value, "variants"))]
    seen: set[str] = set()
    for index, variant in enumerate(variants):
        if variant["name"] in seen:
            raise invalid(at(at("variants", index), "name"), f"'{variant['name']}' names two variants.")
        seen.add(variant["name"])
    return variants


def _fallbacks(value: Any, models: WorkspaceModels) -> list[dict[str, Any]]:
    if value == []:
        return []
    entries = routing_rules.model_list(value, "fallbacks", '[{"model": "provider/model-id"}]')
    fallbacks = []
    for index, entry in enumerate(entries):
        where = at("fallbacks", index)
        only_known(an_object(entry, where), ("model",), where)
        fallbacks.append({"model": _model(entry.get("model"), at(where, "model"), models)})
    return fallbacks


def _retry(value: Any) -> dict[str, Any]:
    only_known(an_object(value, "retry"), ("count", "on_codes"), "retry")
    routing_rules.parse_retry(value)
    return dict(value)


def _timeout(value: Any) -> dict[str, Any]:
    only_known(an_object(value, "timeout"), ("call_timeout",), "timeout")
    routing_rules.parse_timeout(value)
    return dict(value)


def _cache(value: Any) -> dict[str, Any]:
    cache = an_object(value, "cache")
    only_known(cache, ("type", "ttl"), "cache")
    kind = cache.get("type")
    spelled = {**cache, "type": CACHE_TYPE_SPELLINGS.get(kind, kind) if isinstance(kind, str) else kind}
    return {"type": "exact_match", "ttl": routing_rules.parse_cache(spelled)}


def normalise(fields: Mapping[str, Any], key: str, models: WorkspaceModels) -> dict[str, Any]:
    """A version's content from its fields (``null`` = the field's default), checked.

    Raises ``InvalidRequest`` naming the first wrong field."""
    given = {name: value for name, value in fields.items() if value is not None}
    for name in REQUIRED_FIELDS:
        if name not in given:
            raise invalid(name, "is required.", "missing_field")
    content: dict[str, Any] = {
        "display_name": text(given.get("display_name", key), "display_name", max_length=MAX_NAME_LENGTH),
        "description": text(given.get("description", ""), "description", max_length=MAX_DESCRIPTION_LENGTH),
        "model": _model(given["model"], "model", models),
        "messages": check_messages(given["messages"], "messages"),
        "parameters": check_parameters(given.get("parameters", {}), "parameters"),
        "variants": _variants(given.get("variants", []), models),
        "fallbacks": _fallbacks(given.get("fallbacks", []), models),
    }
    if not content["display_name"].strip():
        content["display_name"] = key
    for name, check in (("retry", _retry), ("timeout", _timeout), ("cache", _cache)):
        if name in given:
            content[name] = check(given[name])
    return content


def created(body: Mapping[str, Any], models: WorkspaceModels) -> tuple[str, dict[str, Any]]:
    """A POST's key and first version's content."""
    check_fields(body, CREATE_FIELDS)
    key = check_key(body.get("key"))
    return key, normalise(body, key, models)


def changed(
    current: Mapping[str, Any], body: Mapping[str, Any], key: str, models: WorkspaceModels
) -> dict[str, Any]:
    """A PATCH's content: the current content with the fields given replaced."""
    check_fields(body, CREATE_FIELDS)
    if "key" in body and body["key"] != key:
        raise InvalidRequest(
            "A deployment's key cannot change: applications call it by that key. "
            "Create a deployment with the new key instead.",
            param="key",
            code="key_immutable",
        )
    given = {name: value for name, value in body.items() if name in CONTENT_FIELDS}
    return normalise({**current, **given}, key, models)
