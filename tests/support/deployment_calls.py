"""What the deployment invoke tests share: a deployment made through /v2/deployments, the
hosted product's Python SDK pointed at relaygate, and the SDK error checks."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from orq_ai_sdk import Orq

from support.server import Workspace
from tests_shared import assert_openai_error

TEMPLATE = [
    {"role": "system", "content": "You answer questions about {{product}}."},
    {"role": "user", "content": "{{question}}"},
]
INPUTS = {"product": "relaygate", "question": "What is a deployment?"}


def unique_key(prefix: str = "support") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_deployment(workspace: Workspace, model: str, key: str | None = None, **fields: Any) -> str:
    """A new deployment of ``model`` with ``TEMPLATE`` (unless ``fields`` say otherwise); its key."""
    key = key or unique_key()
    body = {"key": key, "model": model, "messages": TEMPLATE, **fields}
    response = workspace.api("POST", "/v2/deployments", json=body)
    assert response.status_code == 200, response.text
    return key


def orq(workspace: Workspace, key: str | None = None) -> Orq:
    """The Python SDK as an application uses it, against this relaygate."""
    return Orq(api_key=key or workspace.admin_key, server_url=workspace.server.url)


def post(workspace: Workspace, action: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    """``POST /v2/deployments/<action>`` without an SDK (to see status, headers and raw bodies)."""
    return workspace.api("POST", f"/v2/deployments/{action}", json=body, **kwargs)


def sdk_error(response: httpx.Response, status: int, param: str | None = None) -> dict[str, Any]:
    """relaygate's error shape with the top-level message the SDKs read; its ``error`` object."""
    error_type = {400: "invalid_request_error", 404: "invalid_request_error", 401: "authentication_error"}
    body = assert_openai_error(response, status, error_type[status])
    assert body["message"] == body["error"]["message"]
    if param is not None:
        assert body["error"]["param"] == param, body
    return dict(body["error"])


def said(choice: Any) -> Any:
    """The text of an SDK answer's (or chunk's) choice, whichever message type it is."""
    return choice.message.content


def received(upstream: Any) -> dict[str, Any]:
    """The body of the last chat completion the fake upstream received."""
    return dict(upstream.requests_to("/chat/completions")[-1].json)
