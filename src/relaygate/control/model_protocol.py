"""Wire shapes of the /v2/models answers: the model object of seeds/003.

Field by field as the hosted product's Node SDK reads it (``@orq-ai/node``,
``models/operations/modelcreateopenailike`` and ``models/components/model*``): its
nullable fields are sent, ``null`` included; its optional fields only when relaygate has
a value (``Omittable``, see ``api_object``). Fields relaygate has no value for at all (``model_developer``,
``model_family``, most of ``metadata``) are not declared. ``router_id``, the upstream key's
``api_key_hint``, ``metadata.max_tokens``, ``temperature``, ``validation`` and
``circuit_breaker`` and ``health`` (``health_protocol``) are relaygate's own additions.
"""

from __future__ import annotations

from typing import Any, Literal

from .api_object import ApiObject, Omittable
from .health_protocol import CircuitBreaker, HealthSummary


class Price(ApiObject):
    cost: float
    currency: str
    per: int
    unit: str


class Pricing(ApiObject):
    input: Omittable[Price] = None
    output: Omittable[Price] = None
    cache_read: Omittable[Price] = None
    cache_write_5m: Omittable[Price] = None


class ModelConfiguration(ApiObject):
    provider: str
    base_url: str
    region: str
    workspace_id: str
    is_openai_compatible: bool
    is_tuned_model: bool
    auth_type: str
    subtype: str
    api_key_hint: Omittable[str] = None
    # Passed through from the ``configuration`` the model was saved with.
    api_key_env: Omittable[str] = None
    api_version: Omittable[str] = None
    auth_mode: Omittable[str] = None
    deployment_name: Omittable[str] = None
    endpoint: Omittable[str] = None
    inference_profile_arn: Omittable[str] = None
    integration_id: Omittable[str] = None
    location: Omittable[str] = None
    project_id: Omittable[str] = None
    should_use_beta_features: Omittable[bool] = None
    # Without supports_strict_tool: "emulate" (the default: relaygate checks strict schemas) or "reject".
    strict_mode: Omittable[str] = None


class ModelMetadata(ApiObject):
    is_private: bool
    region: str
    allowed_passthrough_parameters: list[str]
    pricing: Pricing
    supports_tool_calling: bool
    supports_tool_choice: bool
    supports_parallel_tool_calls: bool
    supports_strict_tool: bool
    supports_structured_outputs: bool
    supports_vision: bool
    supports_image_input: bool
    supports_images: bool
    supports_image_edit: bool
    supports_image_output: bool
    supports_reasoning: bool
    chain_of_thought: bool
    supports_streaming: bool
    supports_text: bool
    supports_text_input: bool
    supports_text_output: bool
    supports_system_message: bool
    supports_json_mode_response_format: bool
    supports_openai_sdk: bool
    supports_responses_api: bool
    supports_audio_input: bool
    supports_audio_output: bool
    supports_url_response_format: bool
    supports_b64_json_response_format: bool
    cost_per_image: Omittable[float] = None
    million_tokens_input_cost: Omittable[float] = None
    million_tokens_output_cost: Omittable[float] = None
    million_tokens_cache_read_cost: Omittable[float] = None
    million_tokens_cache_write_cost: Omittable[float] = None
    cached_input_cost: Omittable[float] = None
    max_output_tokens: Omittable[int] = None
    max_tokens: Omittable[int] = None
    temperature: Omittable[float] = None
    validation: Omittable[dict[str, Any]] = None
    circuit_breaker: Omittable[CircuitBreaker] = None


class ModelParameter(ApiObject):
    config: dict[str, Any]
    description: str | None
    hints: str
    id: str
    is_active: bool
    name: str
    parameter: str
    parameter_type: str
    position: int


class ModelObject(ApiObject):
    configuration: ModelConfiguration
    created: str
    description: str | None
    display_name: str
    docs_url: str | None
    enabled: bool
    enabled_for_endpoints: bool
    enabled_for_playground: bool
    has_cpu_pricing: bool
    has_functions: bool
    id: str
    input_cost: float | None
    input_currency: str
    is_active: bool
    metadata: ModelMetadata
    model_id: str
    model_type: str
    output_cost: float | None
    output_currency: str
    owner: str
    parameters: list[ModelParameter]
    pricing_url: str | None
    provider: str
    refId: str
    updated: str
    router_id: str
    # relaygate's own: the live health state (control/health_rules.py), in lists and detail.
    health: Omittable[HealthSummary] = None


class ModelList(ApiObject):
    object: Literal["list"]
    data: list[ModelObject]


class ModelDeleted(ApiObject):
    id: str
    object: Literal["model"]
    deleted: bool
