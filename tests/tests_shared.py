"""Assertions shared by many tests."""

from __future__ import annotations

from typing import Any

import httpx


def assert_openai_error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body["error"]) >= {"message", "type", "param", "code"}, body
    assert body["error"]["type"] == error_type, body
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return dict(body)
