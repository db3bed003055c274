"""The api key object (``keys.key_object``): what /v2/api-keys and `relaygate keys list --json` show."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from relaygate.control.key_issuing import key_object
from relaygate.store.records import ApiKey

from support.nulls import null_paths
from support.server import Workspace

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _key(**fields: Any) -> ApiKey:
    return ApiKey("k-1", "w-1", "svc", "router", "digest", "rg-abc", CREATED, **fields)


def test_a_fresh_key_omits_what_it_has_no_value_for() -> None:
    body = key_object(_key())
    assert list(null_paths(body)) == []
    assert body["limits"] == {}
    for absent in ("last_used_at", "budget", "key"):
        assert absent not in body
    assert body["created"] == "2026-01-02T03:04:05Z"
    assert body["revoked"] is False


def test_values_extras_and_the_secret_are_shown() -> None:
    budget = {"id": "b-1", "amount_usd": 5.0, "period": "day", "spent_usd": 0.5, "expires_at": None}
    extras: dict[str, object] = {
        "limits": {"requests_per_minute": 7, "tokens_per_minute": None},
        "budget": budget,
    }
    body = key_object(_key(last_used_at=CREATED, revoked_at=CREATED), "rg-secret", extras=extras)
    assert list(null_paths(body)) == []
    assert body["limits"] == {"requests_per_minute": 7}
    assert body["budget"] == {"id": "b-1", "amount_usd": 5.0, "period": "day", "spent_usd": 0.5}
    assert (body["last_used_at"], body["revoked"], body["key"]) == ("2026-01-02T03:04:05Z", True, "rg-secret")


def test_cli_keys_list_json_sends_no_null(workspace: Workspace) -> None:
    listed = json.loads(workspace.server.cli("keys", "list", "--workspace", workspace.name, "--json").stdout)
    assert [key["role"] for key in listed] == ["admin"]
    assert list(null_paths(listed)) == []
