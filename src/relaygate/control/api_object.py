"""The base of every /v2 response object: an optional field without a value is omitted.

The hosted product's Node SDK accepts an optional field only when it is absent, never
``null``; a field that may be ``null`` is declared required and is always sent. So, in a
subclass:

- ``name: str``: required, always a real value;
- ``name: str | None``: required, may be ``null`` (sent as ``null``);
- ``name: Omittable[str] = None``: optional, left out when it has no value, never ``null``.

The OpenAPI document says the same: an optional field's schema has no ``null`` branch.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

T = TypeVar("T")


def _is_none(value: object) -> bool:
    return value is None


Omittable = Annotated[T | None, Field(exclude_if=_is_none)]


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf")
    if not isinstance(branches, list):
        return schema
    kept = [branch for branch in branches if branch != {"type": "null"}]
    rest = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
    return {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}


class ApiObject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core))
        required = set(schema.get("required", ()))
        properties: dict[str, Any] = schema.get("properties", {})
        for name, prop in properties.items():
            if name not in required:
                properties[name] = _without_null(prop)
        return schema
