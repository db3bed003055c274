"""The hosted product's Python SDK (orq-ai-sdk) against /v2/datasets, unchanged.

``Orq(api_key=..., server_url=<relaygate>)`` as a team points it: every call below parses
relaygate's answer into the SDK's own models (a missing field, a null where none is
allowed or a zone-less time would raise ``ResponseValidationError``) and relaygate's
errors into the SDK's typed ones.
"""

from __future__ import annotations

import pytest
from orq_ai_sdk import Orq, models

from support.server import RelaygateServer, Workspace

QUESTION = {"role": "user", "content": "Do you ship abroad?"}


def sdk(workspace: Workspace, key: str | None = None) -> Orq:
    return Orq(api_key=key or workspace.admin_key, server_url=workspace.server.url)


def test_datasets_through_the_python_sdk(workspace: Workspace) -> None:
    orq = sdk(workspace)
    dataset = orq.datasets.create(display_name="shipping", path="Default")
    assert (dataset.display_name, dataset.metadata.datapoints_count) == ("shipping", 0)
    assert dataset.created is not None
    fetched = orq.datasets.retrieve(dataset_id=dataset.id)
    assert fetched.id == dataset.id
    listed = orq.datasets.list(limit=10)
    assert [item.id for item in listed.data] == [dataset.id]
    assert listed.has_more is False
    renamed = orq.datasets.update(dataset_id=dataset.id, display_name="shipping v2")
    assert renamed.display_name == "shipping v2"

    france: models.DatapointInputTypedDict = {
        "inputs": {"country": "FR"},
        "messages": [QUESTION],
        "expected_output": "Yes, to the EU.",
    }
    created = orq.datasets.create_datapoint(dataset_id=dataset.id, request_body=[france])
    assert len(created) == 1
    first = created[0]
    assert first.expected_output == "Yes, to the EU."
    items: list[models.DatapointInputTypedDict] = [{"inputs": {"country": "US"}}, {"expected_output": "No."}]
    bulk = orq.datasets.create_datapoints(dataset_id=dataset.id, items=items)
    assert [point.inputs for point in bulk] == [{"country": "US"}, None]
    page = orq.datasets.list_datapoints(dataset_id=dataset.id, limit=2)
    assert ([point.id for point in page.data], page.has_more) == ([first.id, bulk[0].id], True)
    rest = orq.datasets.list_datapoints(dataset_id=dataset.id, limit=2, starting_after=bulk[0].id)
    assert [point.id for point in rest.data] == [bulk[1].id]

    updated = orq.datasets.update_datapoint(
        dataset_id=dataset.id, datapoint_id=first.id, expected_output="Yes."
    )
    assert updated.expected_output == "Yes."
    assert (
        orq.datasets.retrieve_datapoint(dataset_id=dataset.id, datapoint_id=first.id).expected_output
        == "Yes."
    )
    assert orq.datasets.delete_datapoint(dataset_id=dataset.id, datapoint_id=first.id) is None
    assert orq.datasets.delete_datapoints(dataset_id=dataset.id, item_ids=[bulk[0].id]) is None
    assert orq.datasets.retrieve(dataset_id=dataset.id).metadata.datapoints_count == 1
    assert orq.datasets.clear(dataset_id=dataset.id) is None
    assert orq.datasets.list_datapoints(dataset_id=dataset.id).data == []
    assert orq.datasets.delete(dataset_id=dataset.id) is None


def test_the_python_sdk_reads_relaygates_errors_as_its_own(
    workspace: Workspace, relaygate: RelaygateServer
) -> None:
    orq = sdk(workspace)
    with pytest.raises(models.ErrorResponse) as missing:
        orq.datasets.retrieve(dataset_id="01JNOSUCHDATASET000000000")
    assert "01JNOSUCHDATASET000000000" in missing.value.data.message
    with pytest.raises(models.ErrorResponse) as unknown_key:
        sdk(workspace, key="rg-not-a-key").datasets.list()
    assert "Incorrect API key" in unknown_key.value.data.message
    other = sdk(relaygate.new_workspace("other"))
    dataset = orq.datasets.create(display_name="private")
    with pytest.raises(models.ErrorResponse):
        other.datasets.list_datapoints(dataset_id=dataset.id)
    assert other.datasets.list().data == []
