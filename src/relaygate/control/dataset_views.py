"""The objects /v2/datasets answers with, in the shapes the hosted product's SDKs parse.

relaygate has one project per workspace: ``project_id`` is the workspace's id. Who made
or changed a dataset or datapoint is the id of the api key that did. A datapoint's
``inputs``, ``messages`` and ``expected_output`` are left out when they have no value
(the Node SDK rejects ``null`` for each of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relaygate.deployments.sdk_shapes import timestamp
from relaygate.store.datasets import Dataset, StoredDatapoint


def dataset_object(dataset: Dataset) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "_id": dataset.id,
        "display_name": dataset.display_name,
        "project_id": dataset.workspace_id,
        "workspace_id": dataset.workspace_id,
        "metadata": {"total_versions": 0, "datapoints_count": dataset.datapoints_count},
        "created_by_id": dataset.created_by,
        "updated_by_id": dataset.updated_by,
        "created": timestamp(dataset.created_at),
        "updated": timestamp(dataset.updated_at),
    }
    if dataset.path is not None:
        shaped["path"] = dataset.path
    return shaped


def datapoint_object(datapoint: StoredDatapoint) -> dict[str, Any]:
    return {
        "_id": datapoint.id,
        "dataset_id": datapoint.dataset_id,
        "workspace_id": datapoint.workspace_id,
        "created_by_id": datapoint.created_by,
        "updated_by_id": datapoint.updated_by,
        "created": timestamp(datapoint.created_at),
        "updated": timestamp(datapoint.updated_at),
        **datapoint.fields(),
    }


def list_object(data: Sequence[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """The SDKs' list envelope (all three keys required; Node checks ``object``)."""
    return {"object": "list", "data": list(data), "has_more": has_more}
