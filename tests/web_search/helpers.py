"""Putting the fakes to work in a workspace: the searching model added, a search backend set."""

from __future__ import annotations

from typing import Any

from .searching_model import MODEL_ID, FakeSearchingModel
from support.server import Workspace


def add_searcher(workspace: Workspace, model: FakeSearchingModel, **fields: Any) -> str:
    """The searching model in ``workspace`` (it calls tools); its router id."""
    fields.setdefault("supports_tool_calling", True)
    fields.setdefault("provider", "fake")
    added = workspace.add_model(model, MODEL_ID, **fields)
    model.requests.clear()  # the probe's calls
    return str(added["router_id"])


def set_backend(workspace: Workspace, **body: Any) -> dict[str, Any]:
    response = workspace.api("PUT", "/v2/search/backend", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())
