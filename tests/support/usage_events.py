"""Reading back what relaygate recorded: wait for the usage writer, then list events."""

from __future__ import annotations

import time
from typing import Any, Protocol

import httpx


class Api(Protocol):
    def api(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response: ...


def usage_events(target: Api, count: int, *, timeout: float = 10.0, **params: Any) -> list[dict[str, Any]]:
    """The newest events (at least ``count``) once the writer has stored them, newest first."""
    deadline = time.monotonic() + timeout
    while True:
        response = target.api("GET", "/v2/usage/events", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        if len(data) >= count or time.monotonic() > deadline:
            assert len(data) >= count, f"expected {count} usage events, found {len(data)}"
            return data
        time.sleep(0.05)


def usage_event(target: Api, request_id: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """The event of one call (by its x-request-id), once the writer has stored it."""
    deadline = time.monotonic() + timeout
    while True:
        response = target.api("GET", "/v2/usage/events", params={"limit": 1000})
        assert response.status_code == 200, response.text
        for event in response.json()["data"]:
            if event["request_id"] == request_id:
                return dict(event)
        assert time.monotonic() < deadline, f"no usage event for {request_id}"
        time.sleep(0.05)
