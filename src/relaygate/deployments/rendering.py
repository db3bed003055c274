"""A deployment call's chat request: the variant's template rendered, the caller's turns around it.

Two ways in, one rendering:

* ``/v2/deployments/invoke`` (and ``/stream``, ``/get_config``): the template's messages
  with ``inputs`` put in; ``prefix_messages`` after the template's leading system and
  developer messages, before its other turns; the caller's ``messages`` last. The
  variant's parameters with ``extra_params`` laid over them.
* ``model: "deployment/<key>"`` on the router: the rendered template before the client's
  own messages, ``inputs`` and ``context`` read from the body's top level or under
  ``orq``; the client's own parameters win over the deployment's.

What a call came through (``DeploymentUse``) travels on the prepared call to accounting,
and, for the SDK's invoke, the shape its answer takes (``InvokeShape``). Pure: no catalog,
no store, no router.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from relaygate.errors import InvalidRequest, NotFound

from .config import Release, Variant
from .fields import type_name
from .template import render

MODEL_PREFIX = "deployment/"  # the router's name for a deployment: deployment/<key>
_INSTRUCTION_ROLES = ("system", "developer")


class UnknownDeployment(NotFound):
    """The caller's workspace has no deployment ``key`` (another workspace's reads the same)."""

    def __init__(self, key: str, param: str = "key") -> None:
        super().__init__(
            f"The deployment '{key}' does not exist or you do not have access to it. "
            "List this workspace's deployments with GET /v2/deployments.",
            param=param,
            code="deployment_not_found",
        )
        self.key = key


@dataclass(frozen=True, slots=True)
class InvokeShape:
    """What every invoke or stream answer of one call carries besides the model's words."""

    id: str  # the answer's id (a ULID), the same in every chunk of a stream
    created: str  # RFC 3339, milliseconds, Z
    trace_id: str  # 32 hex digits: the client's traceparent's, else a new one
    span_id: str  # 16 hex digits
    include_usage: bool


@dataclass(frozen=True, slots=True)
class DeploymentUse:
    """Which deployment, version and variant a call came through, and what it brings along."""

    key: str
    version: int
    variant: str
    documents: tuple[Mapping[str, Any], ...] | None = None  # the caller's RAG chunks, kept with the call
    invoke: InvokeShape | None = None  # answered in the SDK's invoke shape (None: OpenAI's)


def use_of(
    release: Release,
    variant: Variant,
    documents: tuple[Mapping[str, Any], ...] | None = None,
    invoke: InvokeShape | None = None,
) -> DeploymentUse:
    return DeploymentUse(release.key, release.version, variant.name, documents, invoke)


def invoke_messages(
    variant: Variant,
    inputs: Mapping[str, Any],
    prefix: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The messages an invoke sends: the rendered template with ``prefix`` after its leading
    system/developer messages, then the caller's ``messages``."""
    template = render(variant.messages, inputs)
    head = 0
    while head < len(template) and template[head].get("role") in _INSTRUCTION_ROLES:
        head += 1
    return [*template[:head], *map(dict, prefix), *template[head:], *map(dict, messages)]


def invoke_parameters(variant: Variant, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The variant's parameters with the call's ``extra_params`` laid over them."""
    return {**variant.parameters, **extra}


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"'{name}' must be an object, got {type_name(value)}.", param=name)
    return value


def _taken(body: dict[str, Any], nested: Any, name: str) -> Mapping[str, Any]:
    """``name`` taken out of the body (top level first, else under ``orq``): never sent upstream."""
    value = body.pop(name, None)
    if isinstance(nested, dict):
        from_nested = nested.pop(name, None)
        value = from_nested if value is None else value
    return _object(value, name)


def through_deployment(release: Release, body: dict[str, Any]) -> Variant:
    """A router body naming ``deployment/<key>`` turned into the chat request it stands for
    (changed in place): the variant its ``context`` picks, that variant's rendered template
    before the client's messages, its parameters where the client set none, its model."""
    nested = body.get("orq")
    inputs, context = _taken(body, nested, "inputs"), _taken(body, nested, "context")
    variant = release.variant_for(context)
    own = body.get("messages")
    body["messages"] = [*render(variant.messages, inputs), *(own if isinstance(own, list) else ())]
    for name, value in variant.parameters.items():
        body.setdefault(name, value)
    body["model"] = variant.model
    return variant
