"""The body of ``/v2/deployments/invoke``, ``/stream`` and ``/get_config``, read and checked once.

The hosted product's SDKs send it (``../shared/contracts/deployments.md``, "invoke"):
only ``key`` is required. Every field relaygate reads is type-checked here with a 400
whose ``param`` names it; fields for features relaygate does not have (knowledge
bases, uploaded files, retrievals) are a 400 naming them, never silently dropped.
``identity``, ``metadata`` and ``thread`` go on to ``usage.identity.Attribution`` as the
router's own fields do; the SDK's richer identity (``metadata`` as a list of objects,
``logo_url``, ``tags``) is read into the attribution's shape. Unknown top-level fields
are ignored, as the SDKs ignore ours. Pure: no catalog, no store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from relaygate.errors import InvalidRequest

from .fields import a_list, an_object, at, text, type_name

MAX_KEY_LENGTH = 128
ROLES = ("system", "developer", "user", "assistant", "tool")
# What a call decides itself: extra_params may not replace them.
_RESERVED_PARAMETERS = {
    "model": "the deployment's variant chooses the model",
    "messages": "send them as 'messages' or 'prefix_messages'",
    "stream": "call /v2/deployments/stream for a stream",
}
_MISSING_FEATURES = {
    "knowledge_filter": "knowledge bases (retrieval), which relaygate does not have",
    "file_ids": "uploaded files, which relaygate does not keep",
}


def refused(param: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid '{param}': {message}", param=param)


def unsupported(param: str, feature: str) -> InvalidRequest:
    return InvalidRequest(
        f"'{param}' asks for {feature}; leave it out.", param=param, code="unsupported_feature"
    )


@dataclass(frozen=True, slots=True)
class InvokeRequest:
    key: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    prefix_messages: tuple[dict[str, Any], ...] = ()
    messages: tuple[dict[str, Any], ...] = ()
    extra_params: Mapping[str, Any] = field(default_factory=dict)
    attribution: Mapping[str, Any] = field(default_factory=dict)  # identity, metadata, thread
    documents: tuple[dict[str, Any], ...] | None = None
    include_usage: bool = False
    mock_response: str | None = None


def _optional_object(body: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    return {} if value is None else an_object(value, name)


def _messages(body: Mapping[str, Any], name: str) -> tuple[dict[str, Any], ...]:
    value = body.get(name)
    if value is None:
        return ()
    checked = []
    for index, message in enumerate(a_list(value, name)):
        where = at(name, index)
        message = an_object(message, where)
        role = message.get("role")
        if role not in ROLES:
            raise refused(at(where, "role"), f"must be one of {', '.join(ROLES)}, got {role!r}.")
        content = message.get("content")
        if not (isinstance(content, str | list) or (content is None and role == "assistant")):
            raise refused(
                at(where, "content"), f"must be a string or a list of parts, got {type_name(content)}."
            )
        checked.append(message)
    return tuple(checked)


def _extra_params(body: Mapping[str, Any]) -> dict[str, Any]:
    params = _optional_object(body, "extra_params")
    for name, reason in _RESERVED_PARAMETERS.items():
        if name in params:
            raise refused(at("extra_params", name), f"a call cannot set it here: {reason}.")
    return params


def _documents(body: Mapping[str, Any]) -> tuple[dict[str, Any], ...] | None:
    value = body.get("documents")
    if value is None:
        return None
    documents = []
    for index, document in enumerate(a_list(value, "documents")):
        where = at("documents", index)
        document = an_object(document, where)
        text(document.get("text"), at(where, "text"))
        if document.get("metadata") is not None:
            an_object(document["metadata"], at(where, "metadata"))
        documents.append(document)
    return tuple(documents)


def _identity(value: Any) -> Any:
    """The SDK's identity in the attribution's shape: its ``metadata`` list of objects as
    one object, ``logo_url`` and ``tags`` checked and not kept (usage records an identity
    by id, name, email and metadata)."""
    if not isinstance(value, dict):
        return value  # Attribution names what is wrong
    identity = dict(value)
    for name, kind in (("logo_url", str), ("tags", list)):
        if identity.get(name) is not None and not isinstance(identity[name], kind):
            raise refused(
                at("identity", name), f"must be {type_name(kind())}, got {type_name(identity[name])}."
            )
        identity.pop(name, None)
    metadata = identity.get("metadata")
    if isinstance(metadata, list):
        merged: dict[str, Any] = {}
        for index, entry in enumerate(metadata):
            merged.update(an_object(entry, f"identity.metadata[{index}]"))
        identity["metadata"] = merged
    return identity


def _attribution(body: Mapping[str, Any]) -> dict[str, Any]:
    found = {name: body[name] for name in ("metadata", "thread") if body.get(name) is not None}
    if body.get("identity") is not None:
        found["identity"] = _identity(body["identity"])
    return found


def _invoke_options(body: Mapping[str, Any]) -> tuple[bool, str | None]:
    options = _optional_object(body, "invoke_options")
    for name in ("include_usage", "include_retrievals"):
        if options.get(name) is not None and not isinstance(options[name], bool):
            raise refused(
                at("invoke_options", name), f"must be true or false, got {type_name(options[name])}."
            )
    if options.get("include_retrievals") is True:
        raise unsupported(
            "invoke_options.include_retrievals",
            "retrievals from knowledge bases, which relaygate does not have",
        )
    mock = options.get("mock_response")
    if mock is not None:
        text(mock, "invoke_options.mock_response")
    return options.get("include_usage") is True, mock


def _refuse_missing_features(body: Mapping[str, Any]) -> None:
    for name, feature in _MISSING_FEATURES.items():
        value = body.get(name)
        if value is not None and value != []:
            raise unsupported(name, feature)


def read_invoke(body: Mapping[str, Any]) -> InvokeRequest:
    """The invoke body (a parsed JSON object) checked field by field."""
    key = body.get("key")
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise refused(
            "key", f"must be the key of a deployment (1-{MAX_KEY_LENGTH} characters), got {type_name(key)}."
        )
    _refuse_missing_features(body)
    include_usage, mock = _invoke_options(body)
    return InvokeRequest(
        key=key,
        inputs=_optional_object(body, "inputs"),
        context=_optional_object(body, "context"),
        prefix_messages=_messages(body, "prefix_messages"),
        messages=_messages(body, "messages"),
        extra_params=_extra_params(body),
        attribution=_attribution(body),
        documents=_documents(body),
        include_usage=include_usage,
        mock_response=mock,
    )
