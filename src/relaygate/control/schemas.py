"""Wire shapes of the /v2 API's request bodies (field names from seeds/003)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relaygate.catalog import configured_price
from relaygate.vocab import STRICT_MODES, KeyRole, ModelType

from .limit_schemas import BudgetSpec, KeyLimits

Text128 = Annotated[str, Field(min_length=1, max_length=128)]
# A workspace name goes into command lines, logs and metric labels: a slug, no spaces.
WorkspaceName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    ),
]
OptionalText128 = Annotated[str | None, Field(default=None, max_length=128)]
Price = Annotated[Decimal | None, Field(default=None, ge=0, le=1_000_000, max_digits=20, decimal_places=10)]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# Where the upstream runs (a label: us, eu, a site's name); relaygate does not route by it.
DEFAULT_REGION = "default"
_REGION_NAMES = {
    "united states": "us",
    "usa": "us",
    "europe": "eu",
    "european union": "eu",
    "united kingdom": "uk",
    "canada": "ca",
    "asia pacific": "ap",
    "asia": "ap",
}
CAPABILITY_FIELDS = (
    "supports_tool_calling",
    "supports_strict_tool",
    "supports_vision",
    "supports_image_edit",
    "has_reasoning",
    "supports_responses_api",
)


class ModelFields(BaseModel):
    """Fields shared by create and update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: Text128
    model_type: ModelType
    region: Text128 = DEFAULT_REGION
    description: OptionalText128 = None
    provider: OptionalText128 = None
    cost_per_image: Price = None
    input_cost: Price = None
    output_cost: Price = None
    cache_read_cost: Price = None
    cache_write_cost: Price = None
    max_tokens: Annotated[int | None, Field(default=None, gt=0, le=10_000_000)] = None
    temperature: Annotated[float | None, Field(default=None, ge=0, le=2)] = None
    has_reasoning: bool | None = None
    supports_image_edit: bool | None = None
    supports_strict_tool: bool | None = None
    supports_tool_calling: bool | None = None
    supports_vision: bool | None = None
    supports_responses_api: bool | None = None  # unset: the probe finds out
    # Keep the claimed capabilities even where the probe's tests disagree.
    force: bool = False
    # Also make the paid calls the probe otherwise skips (image, stt, image edits).
    full_probe: bool = False
    configuration: dict[str, Any] | None = None
    enabled: bool | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _REGION_NAMES.get(value.lower(), value.lower())

    @field_validator("provider")
    @classmethod
    def _provider(cls, value: str | None) -> str | None:
        if value is None:
            return None
        slug = value.lower()
        if not _SLUG.match(slug):
            raise ValueError("provider must be a slug: lowercase letters, digits, '.', '_' or '-'")
        return slug

    @field_validator("configuration")
    @classmethod
    def _configuration(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(repr(value)) > 8192:
            raise ValueError("configuration is too large (8 KiB at most)")
        if value is not None and value.get("strict_mode", "emulate") not in STRICT_MODES:
            raise ValueError(f"configuration.strict_mode must be one of {', '.join(STRICT_MODES)}")
        searches_cost = value.get("million_searches_cost") if value is not None else None
        if searches_cost is not None and configured_price(searches_cost) is None:
            raise ValueError("configuration.million_searches_cost must be a number of USD, 0 or more")
        return value

    def capabilities(self) -> dict[str, bool]:
        return {
            name: bool(getattr(self, name)) for name in CAPABILITY_FIELDS if getattr(self, name) is not None
        }


class ModelCreate(ModelFields):
    # Empty for an upstream that takes no key (Ollama, a local vLLM): no Authorization is sent.
    api_key: Annotated[str, Field(max_length=128)] = ""
    base_url: Text128
    model_id: Text128


class ModelUpdate(ModelFields):
    api_key: OptionalText128 = None
    base_url: OptionalText128 = None
    model_id: OptionalText128 = None


class CredentialsCheck(BaseModel):
    """``POST /v2/models/validate`` (the Node SDK's ``models.validate``): nothing is stored.

    Every provider is taken as OpenAI-compatible, so ``base_url`` is required (the service
    says so when it is missing); the Azure-only fields are accepted for the SDK and unused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Empty for an upstream that takes no key: no Authorization is sent.
    api_key: Annotated[str, Field(max_length=128)]
    provider: Text128
    base_url: OptionalText128 = None
    api_version: OptionalText128 = None
    deployment_name: OptionalText128 = None
    endpoint: OptionalText128 = None
    subtype: OptionalText128 = None


# A key's allow-list: the router ids it may call (null: every model of its workspace).
AllowedModels = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=260)]] | None, Field(default=None, max_length=1000)
]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text128 = "key"
    role: KeyRole = "router"
    limits: KeyLimits | None = None
    budget: BudgetSpec | None = None
    expires_at: datetime | None = None  # the key stops authenticating then
    allowed_models: AllowedModels = None


class ApiKeyUpdate(BaseModel):
    """Only the fields sent change; ``budget: null`` removes the key's budget, ``expires_at:
    null`` its expiry, ``allowed_models: null`` its allow-list."""

    model_config = ConfigDict(extra="forbid")

    limits: KeyLimits | None = None
    budget: BudgetSpec | None = None
    expires_at: datetime | None = None
    allowed_models: AllowedModels = None
