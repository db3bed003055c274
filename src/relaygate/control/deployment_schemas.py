"""Wire shapes of /v2/deployments: the bodies it takes and the objects it answers.

The bodies are checked by ``deployments/validation.py``, not by these classes: its 400s
name a field as a client writes it (``variants[1].model``) and say why, and a field of a
feature relaygate lacks is named as such. So the body classes take any JSON value and
only describe the fields for the OpenAPI document.

The answers: relaygate's own deployment object, and the hosted product's list and
list_versions shapes (``/work/shared/contracts/deployments.md``), which both SDKs parse,
with relaygate's own fields added (the SDKs ignore keys they do not know).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .api_object import ApiObject, Omittable


def _field(description: str) -> Any:
    return Field(default=None, description=description)


class DeploymentFields(BaseModel):
    """A version's content; on PATCH every field is optional and ``null`` means its default."""

    model_config = ConfigDict(extra="allow")  # unknown fields: a 400 naming them, from the validation

    display_name: Any = _field("Shown in lists (1-128 characters); default: the key.")
    description: Any = _field('Free text; default "".')
    model: Any = _field("Router id of an enabled chat model of this workspace ('provider/model-id').")
    messages: Any = _field(
        "The prompt: [{role: system|developer|user|assistant|tool, content: text or parts}]; "
        "text may hold {{variable}} placeholders, filled from a call's inputs."
    )
    parameters: Any = _field(
        "OpenAI chat parameters (temperature, max_tokens, top_p, response_format, tools, ...); "
        "other keys go to the model as they are."
    )
    variants: Any = _field(
        "[{name?, context: {field: value or [values]}, model?, messages?, parameters?}]: a call whose "
        "context matches every rule of a variant gets it (the most specific one); parameters are laid "
        "over the deployment's."
    )
    fallbacks: Any = _field("[{model}]: at most 10 chat models tried in order when the model fails.")
    retry: Any = _field("{count: 1-5, on_codes?: [HTTP statuses]} (codes default to [429]).")
    timeout: Any = _field("{call_timeout: milliseconds per attempt}.")
    cache: Any = _field("{type: exact_match, ttl?: seconds} ('exact' is accepted too).")


class DeploymentCreate(DeploymentFields):
    key: Any = _field(
        "1-128 letters, digits, '_', '.' or '-', starting with a letter or digit; unique in the "
        "workspace, case-sensitive. Applications call the deployment by it."
    )


class DeploymentUpdate(DeploymentFields):
    pass


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="The number of the version whose content becomes current again.")


class DeploymentObject(ApiObject):
    id: str
    object: Literal["deployment"] = "deployment"
    key: str
    display_name: str
    description: str
    version: int = Field(description="The current version's number.")
    model: str
    messages: list[dict[str, Any]]
    parameters: dict[str, Any]
    variants: list[dict[str, Any]]
    fallbacks: list[dict[str, Any]]
    retry: dict[str, Any] | None
    timeout: dict[str, Any] | None
    cache: dict[str, Any] | None
    variables: list[str] = Field(description="The variables the prompt needs, over all its variants.")
    created_at: str
    updated_at: str


class DeploymentDeleted(ApiObject):
    id: str
    key: str
    object: Literal["deployment"] = "deployment"
    deleted: bool = True


class FunctionParameters(ApiObject):
    type: Literal["object"] = "object"
    properties: dict[str, Any]
    required: Omittable[list[str]] = None
    additionalProperties: Omittable[bool] = None  # the wire's camelCase name


class ToolFunction(ApiObject):
    name: str
    parameters: FunctionParameters
    description: Omittable[str] = None
    strict: Omittable[bool] = None


class Tool(ApiObject):
    type: Literal["function"] = "function"
    function: ToolFunction


class PromptConfig(ApiObject):
    """The SDKs' prompt configuration of a deployment: its default variant."""

    tools: list[Tool]
    model: str = Field(description="The router id.")
    model_type: str
    model_parameters: dict[str, Any] = Field(description="ModelParameters: camelCase (maxTokens, topP).")
    provider: str
    messages: list[dict[str, Any]]


class DeploymentListItem(ApiObject):
    id: str
    created: str
    updated: str
    key: str
    description: str
    version: str = Field(description="The current version as the SDKs label it: 'v3'.")
    prompt_config: PromptConfig
    # relaygate's own
    display_name: str
    model: str
    version_number: int
    variables: list[str]
    created_at: str
    updated_at: str


class DeploymentList(ApiObject):
    object: Literal["list"] = "list"
    data: list[DeploymentListItem]
    has_more: bool


class VersionPromptConfig(ApiObject):
    model: str
    model_db_id: str = Field(description="The model's id in /v2/models ('' if it has been deleted).")
    model_type: str
    model_parameters: dict[str, Any]
    provider: str
    messages: list[dict[str, Any]]


class VersionFallback(ApiObject):
    model: str
    model_db_id: str
    model_type: str
    model_parameters: dict[str, Any]
    provider: str


class VersionVariable(ApiObject):
    key: str


class VersionItem(ApiObject):
    version_id: str = Field(serialization_alias="_id", description="The version's id: the page cursor.")
    deployment_id: str
    variant_id: str = Field(description="The variant's name; the deployment's own prompt is 'default'.")
    prompt_config: VersionPromptConfig
    fallbacks: list[VersionFallback]
    tools: list[Tool]
    variables: list[VersionVariable]
    timestamp: str
    version: str
    description: str
    status: Literal["live", "published"] = Field(description="live: the current version.")
    user_id: str | None = Field(description="The id of the API key that made the version.")
    notes: Omittable[str] = None
    # relaygate's own
    number: int
    content: dict[str, Any]
    note: str | None


class VersionList(ApiObject):
    object: Literal["list"] = "list"
    data: list[VersionItem]
    has_more: bool
