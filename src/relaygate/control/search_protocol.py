"""Wire shapes of ``/v2/search/backend``: the body that sets a workspace's backend, the object it answers.

The backend's key goes in (``api_key``) and never comes out again: answers carry only
``api_key_hint`` (its first characters and last four), as a model's upstream key.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from relaygate.web_search.config import (
    DEFAULT_CACHE_TTL_S,
    DEFAULT_MAX_SEARCHES,
    DEFAULT_TIMEOUT_S,
    BackendKind,
)

from .api_object import ApiObject, Omittable
from .schemas import Price

MAX_SEARCHES_PER_CALL = 20
MAX_TIMEOUT_S = 60.0
MAX_CACHE_TTL_S = 86_400


class SearchBackendSet(BaseModel):
    """``PUT /v2/search/backend``: the whole backend (fields left out take their defaults)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: BackendKind = Field(description="searxng (self-hosted, recommended), brave or tavily")
    base_url: Annotated[str | None, Field(max_length=2048)] = Field(
        default=None,
        description="Required for searxng (e.g. http://searxng:8080); brave and tavily default to "
        "their APIs.",
    )
    api_key: Annotated[str | None, Field(max_length=512)] = Field(
        default=None,
        description="Required for brave and tavily; optional for searxng (sent as a bearer token). "
        'Left out, the stored key is kept while kind and base_url stay the same; "" removes it.',
    )
    max_searches: Annotated[int, Field(ge=1, le=MAX_SEARCHES_PER_CALL)] = DEFAULT_MAX_SEARCHES
    timeout_s: Annotated[float, Field(gt=0, le=MAX_TIMEOUT_S)] = DEFAULT_TIMEOUT_S
    cache_ttl_s: Annotated[int, Field(ge=0, le=MAX_CACHE_TTL_S)] = DEFAULT_CACHE_TTL_S
    price_per_1000: Price = Field(default=None, description="USD per 1000 searches (else the model's price)")
    prefer_relaygate: bool = Field(
        default=False,
        description="Search here also for models whose upstream serves /responses with its own web search.",
    )


class SearchBackendObject(ApiObject):
    object: Literal["search.backend"]
    id: str
    kind: BackendKind
    base_url: str
    api_key_hint: Omittable[str] = None  # absent: no key stored
    max_searches: int
    timeout_s: float
    cache_ttl_s: int
    price_per_1000: Omittable[str] = None  # absent: the model's million_searches_cost applies
    prefer_relaygate: bool
    created_at: str
    updated_at: str


class SearchBackendDeleted(ApiObject):
    object: Literal["search.backend"]
    deleted: bool
