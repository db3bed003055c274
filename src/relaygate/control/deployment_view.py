"""The objects /v2/deployments answers with, filled from stored deployments and versions.

The shapes are ``deployment_schemas``'; this module says which value each field takes.
The SDK shapes describe a model by its record (id, provider, type): the workspace's
models come in as a mapping by router id, and a model deleted since (``force``) is
described as an OpenAI-compatible chat model without a record id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relaygate.deployments import sdk_shapes
from relaygate.deployments.config import Variant, required_variables, variants_of
from relaygate.deployments.sdk_shapes import timestamp
from relaygate.store.deployments import Deployment, DeploymentVersion
from relaygate.store.records import Model

from .deployment_schemas import (
    DeploymentListItem,
    DeploymentObject,
    PromptConfig,
    Tool,
    VersionFallback,
    VersionItem,
    VersionPromptConfig,
    VersionVariable,
)

WorkspaceModels = Mapping[str, Model]  # router id -> the workspace's model


def deployment_object(deployment: Deployment) -> DeploymentObject:
    content = deployment.content
    return DeploymentObject(
        id=deployment.id,
        key=deployment.key,
        display_name=content.get("display_name") or deployment.key,
        description=content.get("description") or "",
        version=deployment.version,
        model=content["model"],
        messages=content.get("messages") or [],
        parameters=content.get("parameters") or {},
        variants=content.get("variants") or [],
        fallbacks=content.get("fallbacks") or [],
        retry=content.get("retry"),
        timeout=content.get("timeout"),
        cache=content.get("cache"),
        variables=required_variables(content),
        created_at=timestamp(deployment.created_at),
        updated_at=timestamp(deployment.updated_at),
    )


def _model_facts(router_id: str, models: WorkspaceModels) -> dict[str, str]:
    model = models.get(router_id)
    if model is None:
        return {"model_db_id": "", "model_type": "chat", "provider": sdk_shapes.ANY_PROVIDER}
    # relaygate's model types are all in the SDKs' closed ModelType enum, under the same names.
    return {
        "model_db_id": model.id,
        "model_type": model.model_type,
        "provider": sdk_shapes.sdk_provider(model.provider),
    }


def _object_schema(schema: Any) -> dict[str, Any]:
    """A function's parameters as the list shapes require them: an object schema with
    ``properties``, ``required`` only as a list of names, ``additionalProperties`` only false."""
    schema = schema if isinstance(schema, dict) else {}
    properties = schema.get("properties")
    shaped: dict[str, Any] = {
        "type": "object",
        "properties": properties if isinstance(properties, dict) else {},
    }
    required = schema.get("required")
    if isinstance(required, list) and all(isinstance(name, str) for name in required):
        shaped["required"] = required
    if schema.get("additionalProperties") is False:
        shaped["additionalProperties"] = False
    return shaped


def _tools(parameters: Mapping[str, Any]) -> list[Tool]:
    tools = sdk_shapes.function_tools(parameters.get("tools"))
    for tool in tools:
        tool["function"]["parameters"] = _object_schema(tool["function"].get("parameters"))
    return [Tool.model_validate(tool) for tool in tools]


def list_item(deployment: Deployment, models: WorkspaceModels) -> DeploymentListItem:
    """The SDKs' list entry: the prompt configuration of the deployment's own prompt."""
    content = deployment.content
    default, _ = variants_of(content)
    facts = _model_facts(default.model, models)
    return DeploymentListItem(
        id=deployment.id,
        created=timestamp(deployment.created_at),
        updated=timestamp(deployment.updated_at),
        key=deployment.key,
        description=content.get("description") or "",
        version=sdk_shapes.version_label(deployment.version),
        prompt_config=PromptConfig(
            tools=_tools(default.parameters),
            model=default.model,
            model_type=facts["model_type"],
            model_parameters=sdk_shapes.model_parameters(default.parameters),
            provider=facts["provider"],
            messages=[dict(message) for message in default.messages],
        ),
        display_name=content.get("display_name") or deployment.key,
        model=default.model,
        version_number=deployment.version,
        variables=required_variables(content),
        created_at=timestamp(deployment.created_at),
        updated_at=timestamp(deployment.updated_at),
    )


def variant_named(content: Mapping[str, Any], name: str) -> Variant | None:
    """The version's variant ``name`` (``default``: the deployment's own prompt)."""
    default, declared = variants_of(content)
    return next((variant for variant in (default, *declared) if variant.name == name), None)


def version_item(
    version: DeploymentVersion, current: int, variant: Variant, models: WorkspaceModels
) -> VersionItem:
    """The SDK's list_versions entry for one variant of one version."""
    content = version.content
    return VersionItem(
        version_id=version.id,
        deployment_id=version.deployment_id,
        variant_id=variant.name,
        prompt_config=VersionPromptConfig(
            model=variant.model,
            model_parameters=sdk_shapes.model_parameters(variant.parameters),
            messages=[dict(message) for message in variant.messages],
            **_model_facts(variant.model, models),
        ),
        fallbacks=[
            VersionFallback(model=entry["model"], model_parameters={}, **_model_facts(entry["model"], models))
            for entry in content.get("fallbacks") or []
        ],
        tools=_tools(variant.parameters),
        variables=[VersionVariable(key=name) for name in variant.variables],
        timestamp=timestamp(version.created_at),
        version=sdk_shapes.version_label(version.version),
        description=content.get("description") or "",
        status="live" if version.version == current else "published",
        user_id=version.created_by,
        notes=version.note,
        number=version.version,
        content=content,
        note=version.note,
    )
