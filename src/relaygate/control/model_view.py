"""The model object of seeds/003, filled from a stored model.

The shape and its rule for absent values are in ``model_protocol``: this module only
says which value each field takes. The upstream key never appears:
``configuration.api_key_hint`` is a mask.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from relaygate.store.records import Model

from .health_protocol import CircuitBreaker, HealthSummary
from .model_protocol import (
    ModelConfiguration,
    ModelMetadata,
    ModelObject,
    ModelParameter,
    Price,
    Pricing,
)

# The stored ``configuration`` keys shown back, with the type the model object gives them;
# a value of another type is not shown (typed clients would reject the whole object).
_PASSED_THROUGH: dict[str, type] = {
    "api_key_env": str, "api_version": str, "auth_mode": str, "deployment_name": str, "endpoint": str,
    "inference_profile_arn": str, "integration_id": str, "location": str, "project_id": str,
    "should_use_beta_features": bool, "strict_mode": str,
}  # fmt: skip

_TEXT_TYPES = {"chat", "completion"}


def _number(value: str | None) -> float | None:
    return float(Decimal(value)) if value is not None else None


def _timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _price(value: str | None, unit: str) -> Price | None:
    if value is None:
        return None
    return Price(
        cost=float(Decimal(value)), currency="USD", per=1_000_000 if unit == "tokens" else 1, unit=unit
    )


def _capabilities(model: Model) -> dict[str, bool]:
    caps = model.capabilities
    text = model.model_type in _TEXT_TYPES
    chat = model.model_type == "chat"
    tools = bool(caps.get("supports_tool_calling"))
    vision = bool(caps.get("supports_vision"))
    reasoning = bool(caps.get("has_reasoning"))
    return {
        "supports_tool_calling": tools,
        "supports_tool_choice": tools,
        "supports_parallel_tool_calls": tools,
        "supports_strict_tool": bool(caps.get("supports_strict_tool")),
        "supports_structured_outputs": bool(caps.get("supports_strict_tool")),
        "supports_vision": vision,
        "supports_image_input": vision,
        "supports_images": vision or model.model_type == "image",
        "supports_image_edit": bool(caps.get("supports_image_edit")),
        "supports_image_output": model.model_type == "image",
        "supports_reasoning": reasoning,
        "chain_of_thought": reasoning,
        "supports_streaming": text,
        "supports_text": text or model.model_type == "embedding",
        "supports_text_input": model.model_type != "stt",
        "supports_text_output": text,
        "supports_system_message": chat,
        "supports_json_mode_response_format": chat,
        "supports_openai_sdk": True,
        "supports_responses_api": bool(caps.get("supports_responses_api")),
        "supports_audio_input": model.model_type == "stt",
        "supports_audio_output": model.model_type == "tts",
        "supports_url_response_format": model.model_type == "image",
        "supports_b64_json_response_format": model.model_type == "image",
    }


def _metadata(model: Model, circuit_breaker: CircuitBreaker | None) -> ModelMetadata:
    return ModelMetadata(
        **_capabilities(model),
        is_private=True,
        region=model.region,
        cost_per_image=_number(model.cost_per_image),
        million_tokens_input_cost=_number(model.input_cost),
        million_tokens_output_cost=_number(model.output_cost),
        million_tokens_cache_read_cost=_number(model.cache_read_cost),
        million_tokens_cache_write_cost=_number(model.cache_write_cost),
        cached_input_cost=_number(model.cache_read_cost),
        max_output_tokens=model.max_tokens,
        allowed_passthrough_parameters=[],
        pricing=Pricing(
            input=_price(model.input_cost, "tokens"),
            output=_price(model.output_cost, "tokens"),
            cache_read=_price(model.cache_read_cost, "tokens"),
            cache_write_5m=_price(model.cache_write_cost, "tokens"),
        ),
        max_tokens=model.max_tokens,
        temperature=model.temperature,
        validation=model.validation,
        circuit_breaker=circuit_breaker,
    )


def _parameters(model: Model) -> list[ModelParameter]:
    if model.model_type not in _TEXT_TYPES:
        return []
    specs: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
        ("max_tokens", "Max Tokens", "integer", "Maximum number of tokens to generate.",
         {"default": model.max_tokens, "min": 1}),
        ("temperature", "Temperature", "float", "Randomness of the output; lower is more deterministic.",
         {"default": model.temperature, "min": 0, "max": 2}),
    )  # fmt: skip
    return [
        ModelParameter(
            config={key: value for key, value in config.items() if value is not None},
            description=description,
            id=f"{model.id}:{parameter}",
            is_active=True,
            name=name,
            parameter=parameter,
            parameter_type=kind,
            hints="Used when the request does not set it.",
            position=position,
        )
        for position, (parameter, name, kind, description, config) in enumerate(specs)
    ]


def _configuration(model: Model) -> ModelConfiguration:
    passed = {
        key: value
        for key, value in model.configuration.items()
        if key in _PASSED_THROUGH and isinstance(value, _PASSED_THROUGH[key])
    }
    return ModelConfiguration(
        provider=model.provider,
        base_url=model.base_url,
        region=model.region,
        workspace_id=model.workspace_id,
        is_openai_compatible=True,
        is_tuned_model=False,
        auth_type="bearer",
        subtype="openai-like",
        api_key_hint=model.api_key_hint or None,
    ).model_copy(update=passed)


def model_object(
    model: Model, circuit_breaker: dict[str, Any] | None = None, health: HealthSummary | None = None
) -> ModelObject:
    """The model object; ``circuit_breaker`` (a breaker's state) is shown under ``metadata`` and
    ``health`` (its live state) at the top level, when given."""
    breaker = CircuitBreaker.model_validate(circuit_breaker) if circuit_breaker is not None else None
    return ModelObject(
        configuration=_configuration(model),
        created=_timestamp(model.created_at),
        description=model.description,
        display_name=model.display_name,
        docs_url=None,
        enabled=model.enabled,
        enabled_for_endpoints=model.enabled,
        enabled_for_playground=model.enabled and model.model_type == "chat",
        has_cpu_pricing=False,
        has_functions=bool(model.capabilities.get("supports_tool_calling")),
        id=model.id,
        input_cost=_number(model.input_cost),
        input_currency="USD",
        is_active=model.enabled,
        metadata=_metadata(model, breaker),
        model_id=model.model_id,
        model_type=model.model_type,
        output_cost=_number(model.output_cost),
        output_currency="USD",
        owner=model.workspace_id,
        parameters=_parameters(model),
        pricing_url=None,
        provider=model.provider,
        refId=model.router_id,
        updated=_timestamp(model.updated_at),
        router_id=model.router_id,
        health=health,
    )
