"""The model object of seeds/003, filled from a stored model.

Typed clients of the hosted API reject an object with a field missing, so every field
of that document is present, ``null`` where relaygate has no value. The upstream key
never appears: ``configuration.api_key_hint`` is a mask.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from relaygate.store.records import Model

_CONFIGURATION_FIELDS = (
    "provider", "api_key_env", "api_version", "auth_mode", "auth_type", "base_url", "deployment_name",
    "endpoint", "inference_profile_arn", "integration_id", "is_openai_compatible", "is_tuned_model",
    "location", "project_id", "region", "should_use_beta_features", "subtype", "workspace_id",
)  # fmt: skip

# Every metadata field of seeds/003, in its order; relaygate fills those it knows.
_METADATA_FIELDS = (
    "is_private", "allowed_passthrough_parameters", "autorouter", "cached_image_input_cost",
    "cached_input_cost", "chain_of_thought", "context_length", "context_window", "cost_efficiency_rating",
    "cost_per_image", "deprecation_date", "embedding_dimensions", "extended_context_pricing_mode",
    "extended_context_threshold", "generate_audio", "image_input_cost", "image_output_cost",
    "image_token_cost", "intelligence_rating", "is_realtime", "knowledge_cutoff", "max_images_per_request",
    "max_input_tokens", "max_output_tokens", "million_searches_cost",
    "million_tokens_above_128k_cache_read_cost", "million_tokens_above_128k_cache_write_cost",
    "million_tokens_above_128k_input_cost", "million_tokens_above_128k_output_cost",
    "million_tokens_above_200k_cache_read_cost", "million_tokens_above_200k_cache_write_cost",
    "million_tokens_above_200k_input_cost", "million_tokens_above_200k_output_cost",
    "million_tokens_audio_input_cost",
    "million_tokens_audio_output_cost", "million_tokens_batches_input_cost",
    "million_tokens_batches_output_cost",
    "million_tokens_cache_read_cost", "million_tokens_cache_write_1h_cost",
    "million_tokens_cache_write_5m_cost", "million_tokens_cache_write_cost", "million_tokens_input_cost",
    "million_tokens_output_cost", "million_tokens_reasoning_cost", "multilingual", "offline",
    "per_video_second_cost", "per_video_second_cost_1080p", "pricing", "reasoning_cost", "reasoning_tokens",
    "region", "speed_rating", "supported_video_aspect_ratios", "supported_video_durations",
    "supported_video_frame_images", "supported_video_resolutions", "supported_video_sizes",
    "supports_adaptive_reasoning", "supports_audio_input", "supports_audio_output",
    "supports_b64_json_response_format", "supports_batch_api", "supports_cache_control",
    "supports_code_execution", "supports_commercial_use",
    "supports_computer_use", "supports_developer_message",
    "supports_direct_cost", "supports_distillation", "supports_extended_thinking", "supports_fine_tuning",
    "supports_image_edit", "supports_image_input", "supports_image_output", "supports_images",
    "supports_json_mode_response_format", "supports_json_schema_response_format",
    "supports_max_completion_tokens", "supports_openai_sdk", "supports_parallel_tool_calls",
    "supports_pdf_input", "supports_prompt_caching",
    "supports_reasoning", "supports_reasoning_effort_default",
    "supports_reasoning_effort_high", "supports_reasoning_effort_low", "supports_reasoning_effort_medium",
    "supports_reasoning_effort_minimal", "supports_reasoning_effort_none", "supports_reasoning_effort_xhigh",
    "supports_responses_api", "supports_sampling_params", "supports_streaming", "supports_strict_tool",
    "supports_structured_outputs", "supports_system_message", "supports_text", "supports_text_input",
    "supports_text_output", "supports_tool_calling", "supports_tool_choice", "supports_url_context",
    "supports_url_response_format", "supports_video_input", "supports_video_output", "supports_video_seed",
    "supports_vision", "supports_web_search", "supports_zdr", "thinking_enforced",
)  # fmt: skip

_TEXT_TYPES = {"chat", "completion"}


def _number(value: str | None) -> float | None:
    return float(Decimal(value)) if value is not None else None


def _timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _price(value: str | None, unit: str) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "cost": _number(value),
        "currency": "USD",
        "per": 1_000_000 if unit == "tokens" else 1,
        "unit": unit,
    }


def _capabilities(model: Model) -> dict[str, Any]:
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


def _metadata(model: Model) -> dict[str, Any]:
    metadata: dict[str, Any] = dict.fromkeys(_METADATA_FIELDS)
    metadata.update(_capabilities(model))
    metadata.update(
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
        pricing={
            "input": _price(model.input_cost, "tokens"),
            "output": _price(model.output_cost, "tokens"),
            "cache_read": _price(model.cache_read_cost, "tokens"),
            "cache_write_5m": _price(model.cache_write_cost, "tokens"),
            "cache_write_1h": None,
            "reasoning": None,
            "variants": [],
        },
    )
    metadata["max_tokens"] = model.max_tokens
    metadata["temperature"] = model.temperature
    metadata["validation"] = model.validation
    return metadata


def _parameters(model: Model) -> list[dict[str, Any]]:
    if model.model_type not in _TEXT_TYPES:
        return []
    specs = (
        ("max_tokens", "Max Tokens", "integer", "Maximum number of tokens to generate.",
         {"default": model.max_tokens, "min": 1}),
        ("temperature", "Temperature", "float", "Randomness of the output; lower is more deterministic.",
         {"default": model.temperature, "min": 0, "max": 2}),
    )  # fmt: skip
    return [
        {
            "config": config,
            "description": description,
            "id": f"{model.id}:{parameter}",
            "is_active": True,
            "name": name,
            "parameter": parameter,
            "parameter_type": kind,
            "hints": "Used when the request does not set it.",
            "position": position,
        }
        for position, (parameter, name, kind, description, config) in enumerate(specs)
    ]


def model_object(model: Model) -> dict[str, Any]:
    configuration: dict[str, Any] = dict.fromkeys(_CONFIGURATION_FIELDS)
    configuration.update(
        {key: value for key, value in model.configuration.items() if key in _CONFIGURATION_FIELDS}
    )
    configuration.update(
        provider=model.provider,
        base_url=model.base_url,
        region=model.region,
        workspace_id=model.workspace_id,
        is_openai_compatible=True,
        is_tuned_model=False,
        auth_type="bearer",
        subtype="openai-like",
        api_key_hint=model.api_key_hint,
    )
    return {
        "configuration": configuration,
        "created": _timestamp(model.created_at),
        "description": model.description,
        "display_name": model.display_name,
        "docs_url": None,
        "enabled": model.enabled,
        "enabled_for_endpoints": model.enabled,
        "enabled_for_playground": model.enabled and model.model_type == "chat",
        "has_cpu_pricing": False,
        "has_functions": bool(model.capabilities.get("supports_tool_calling")),
        "id": model.id,
        "input_cost": _number(model.input_cost),
        "input_currency": "USD",
        "is_active": model.enabled,
        "metadata": _metadata(model),
        "model_id": model.model_id,
        "model_type": model.model_type,
        "output_cost": _number(model.output_cost),
        "output_currency": "USD",
        "owner": model.workspace_id,
        "parameters": _parameters(model),
        "pricing_url": None,
        "provider": model.provider,
        "refId": model.router_id,
        "updated": _timestamp(model.updated_at),
        "model_developer": None,
        "model_family": None,
        "router_id": model.router_id,
    }
