"""The bodies /v2/datasets takes (datapoint fields are checked by ``datasets/datapoints.py``).

``path`` and ``project_id`` name the hosted product's projects; relaygate has one
project per workspace, so they are taken (the Node SDK always sends ``path``) and kept
for reference, never used to place a dataset elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

DisplayName = Annotated[str, Field(min_length=1, max_length=256, description="The dataset's name.")]
ProjectPath = Annotated[
    str | None,
    Field(default=None, max_length=512, description="The hosted product's project path; kept as given."),
]
MAX_BULK = 5000  # datapoints created by one call (an import takes more)


class DatasetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName
    path: ProjectPath = None


class DatasetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    path: ProjectPath = None
    project_id: Annotated[
        str | None,
        Field(default=None, max_length=64, description="Accepted; relaygate has one project per workspace."),
    ] = None


class BulkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Annotated[
        list[Any], Field(description="DatapointInput objects: inputs, messages, expected_output.")
    ]


class BulkDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=MAX_BULK)]


class FromTraffic(BaseModel):
    """Which recorded router chat calls become datapoints (newest first, up to ``limit``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: Annotated[str | None, Field(default=None, max_length=260, description="Router model id.")] = None
    api_key_id: Annotated[str | None, Field(default=None, max_length=64)] = None
    identity_id: Annotated[str | None, Field(default=None, max_length=128)] = None
    start: Annotated[
        datetime | None, Field(default=None, alias="from", description="ISO 8601; default: 7 days ago.")
    ] = None
    end: Annotated[
        datetime | None, Field(default=None, alias="to", description="ISO 8601; default: now.")
    ] = None
    status: Annotated[int, Field(default=200, ge=100, le=599, description="The calls' HTTP status.")] = 200
    limit: Annotated[int, Field(default=100, ge=1, le=1000)] = 100
