"""The request log: /v2/logs pages and filters, one call by request id, the live tail,
per-workspace body logging with redaction and retention, the routing story, and calls to
unknown or disabled models. On SQLite, and on PostgreSQL in the suite's PostgreSQL run."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openai
import orjson
import pytest
from sqlalchemy import update

from relaygate.settings import Settings
from relaygate.store import tables
from relaygate.store.database import create_engine

from support.server import RelaygateServer, Workspace
from support.usage_events import usage_events
from tests_shared import assert_openai_error
from upstream import FakeUpstream, Fault

MESSAGES: list[Any] = [{"role": "user", "content": "hello"}]


def _logs(workspace: Workspace, count: int, timeout: float = 10.0, **params: Any) -> dict[str, Any]:
    """A page of the log once it holds at least ``count`` entries."""
    deadline = time.monotonic() + timeout
    while True:
        response = workspace.api("GET", "/v2/logs", params=params)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        if len(page["data"]) >= count or time.monotonic() > deadline:
            assert len(page["data"]) >= count, page
            return page
        time.sleep(0.05)


def _call(workspace: Workspace, model: str, key: str | None = None, **extra: Any) -> str:
    raw = workspace.client(key).chat.completions.with_raw_response.create(
        model=model, messages=MESSAGES, extra_body=extra or None
    )
    return str(raw.headers["x-request-id"])


def test_entries_filters_and_request_id(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    first = workspace.add_model(fake_upstream, "gpt-test", provider="alpha", input_cost="1", output_cost="4")
    second = workspace.add_model(fake_upstream, "gpt-test", provider="beta")
    router_key = workspace.new_key("router", name="billing-app")
    ids = [_call(workspace, first["router_id"]) for _ in range(2)]
    third = _call(workspace, second["router_id"], router_key, identity={"id": "u-1"})
    fake_upstream.script("/chat/completions", [Fault(status=400)])
    with pytest.raises(openai.BadRequestError) as failed:
        _call(workspace, first["router_id"])
    failed_id = failed.value.response.headers["x-request-id"]

    page = _logs(workspace, 4)
    entries = page["data"]
    assert [entry["request_id"] for entry in entries] == [failed_id, third, *reversed(ids)]  # newest first
    assert page["has_more"] is False
    assert "next_cursor" not in page  # absent, never null
    newest = entries[1]
    assert newest["object"] == "log.entry"
    assert newest["key"]["name"] == "billing-app"
    assert router_key.startswith(newest["key"]["prefix"])
    assert router_key not in orjson.dumps(page).decode()  # a key by id, name and prefix only
    assert newest["identity"] == "u-1"
    assert newest["model"] == {
        "asked": second["router_id"], "used": second["router_id"], "upstream": "gpt-test", "unknown": False,
    }  # fmt: skip
    assert newest["endpoint"] == "chat.completions"
    assert newest["status"] == 200
    assert "error" not in newest
    assert newest["attempts"] == 1
    assert newest["fallback_used"] is False
    assert newest["cache_hit"] is False
    assert newest["latency_ms"] > 0
    assert newest["ttfb_ms"] is not None
    assert newest["tokens"]["total"] == newest["tokens"]["prompt"] + newest["tokens"]["completion"] > 0
    priced = entries[2]
    assert priced["cost"] > 0
    assert priced["cost_nano"] > 0
    assert entries[0]["status"] == 400
    assert entries[0]["error"]["code"] is not None or entries[0]["status"] == 400

    def ids_of(**params: Any) -> list[str]:
        response = workspace.api("GET", "/v2/logs", params=params)
        assert response.status_code == 200, response.text
        return [entry["request_id"] for entry in response.json()["data"]]

    assert ids_of(model=second["router_id"]) == [third]
    assert ids_of(key=newest["key"]["id"]) == [third]
    assert ids_of(identity="u-1") == [third]
    assert ids_of(status="4xx") == [failed_id]
    assert ids_of(status="400") == [failed_id]
    assert ids_of(status="error") == [failed_id]
    assert ids_of(status="ok") == [third, *reversed(ids)]
    assert ids_of(status="5xx") == []
    assert ids_of(request_id=ids[0]) == [ids[0]]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert ids_of(**{"from": future}) == []
    assert len(ids_of(to=future)) == 4
    assert ids_of(deployment="nope") == []


def test_keyset_pages_stay_stable_under_new_calls(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    model = workspace.add_model(fake_upstream)["router_id"]
    made = [_call(workspace, model) for _ in range(5)]
    _logs(workspace, 5)
    first = workspace.api("GET", "/v2/logs", params={"limit": 2}).json()
    assert [entry["request_id"] for entry in first["data"]] == made[::-1][:2]
    assert first["has_more"] is True
    later = _call(workspace, model)  # a call recorded between two pages
    _logs(workspace, 6)
    seen = [entry["request_id"] for entry in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        page = workspace.api("GET", "/v2/logs", params={"limit": 2, "cursor": cursor}).json()
        seen += [entry["request_id"] for entry in page["data"]]
        cursor = page.get("next_cursor")
    assert seen == made[::-1]  # no call twice, none skipped, the new one not among the older pages
    assert later not in seen


def test_bad_filters_are_400s(workspace: Workspace) -> None:
    for params, param in (
        ({"status": "6xx"}, "status"),
        ({"status": "abc"}, "status"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "500"}, "limit"),
    ):
        response = workspace.api("GET", "/v2/logs", params=params)
        error = assert_openai_error(response, 400, "invalid_request_error")["error"]
        assert error["param"] == param, (params, error)
        assert error["message"]


def test_detail_and_workspace_isolation(
    relaygate: RelaygateServer, workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream)["router_id"]
    request_id = _call(workspace, model)
    _logs(workspace, 1)
    detail = workspace.api("GET", f"/v2/logs/{request_id}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["object"] == "log.detail"
    assert body["request_id"] == request_id
    assert "request_body" not in body  # body logging is off by default
    assert body["routing"] == [
        {"model": model, "upstream_model": "gpt-test", "status": 200, "duration_ms": body["latency_ms"],
         "kind": "first"},
    ]  # fmt: skip
    other = relaygate.new_workspace()
    assert_openai_error(other.api("GET", f"/v2/logs/{request_id}"), 404, "invalid_request_error")
    assert other.api("GET", "/v2/logs").json()["data"] == []
    assert other.api("GET", "/v2/logs", params={"request_id": request_id}).json()["data"] == []
    assert_openai_error(workspace.api("GET", "/v2/logs/req_nothing"), 404, "invalid_request_error")
    router_key = workspace.new_key("router")
    assert_openai_error(workspace.api("GET", "/v2/logs", key=router_key), 403, "permission_error")


def test_routing_story_of_a_retry_and_a_fallback(workspace: Workspace, fake_upstream_factory: Any) -> None:
    failing = fake_upstream_factory()
    backup_upstream = fake_upstream_factory()
    primary = workspace.add_model(failing)["router_id"]
    backup = workspace.add_model(backup_upstream, provider="backup")["router_id"]
    failing.script(
        "/chat/completions", [Fault(status=503, headers={"retry-after": "0.01"}), Fault(status=502)]
    )
    request_id = _call(
        workspace, primary, retry={"count": 1, "on_codes": [503]}, fallbacks=[{"model": backup}]
    )
    entry = _logs(workspace, 1)["data"][0]
    assert entry["request_id"] == request_id
    assert entry["model"]["asked"] == primary
    assert entry["model"]["used"] == backup
    assert entry["fallback_used"] is True
    assert entry["attempts"] == 3
    assert (
        workspace.api("GET", "/v2/logs", params={"model": primary}).json()["data"][0]["request_id"]
        == request_id
    )
    story = workspace.api("GET", f"/v2/logs/{request_id}").json()["routing"]
    assert [(step["model"], step["status"], step["kind"]) for step in story] == [
        (primary, 503, "first"),
        (primary, 502, "retry"),
        (backup, 200, "fallback"),
    ]
    assert all(step["duration_ms"] >= 0 for step in story)


def test_unknown_and_disabled_models_are_logged_by_the_name_asked(
    workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream)
    client = workspace.client()
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="no-such-model", messages=MESSAGES)
    assert unknown.value.code == "model_not_found"
    patched = workspace.api(
        "PATCH",
        f"/v2/models/openai-like/{model['id']}",
        json={"display_name": "x", "model_type": "chat", "region": "us", "enabled": False},
    )
    assert patched.status_code == 200, patched.text
    deadline = time.monotonic() + 10
    while True:
        try:
            client.chat.completions.create(model=model["router_id"], messages=MESSAGES)
        except openai.PermissionDeniedError as exc:
            disabled = exc
            break
        except openai.NotFoundError:
            pass
        assert time.monotonic() < deadline, "the disabled model was never refused as disabled"
        time.sleep(0.05)
    assert disabled.status_code == 403
    assert disabled.code == "model_disabled"
    assert "disabled" in disabled.message
    entries = _logs(workspace, 2)["data"]
    asked = {entry["model"]["asked"]: entry for entry in entries}
    assert asked["no-such-model"]["model"]["unknown"] is True
    assert "used" not in asked["no-such-model"]["model"]
    assert asked["no-such-model"]["error"]["code"] == "model_not_found"
    assert "does not exist" in asked["no-such-model"]["error"]["message"]
    assert asked[model["router_id"]]["status"] == 403
    assert asked[model["router_id"]]["error"]["code"] == "model_disabled"
    events = usage_events(workspace, 2)
    assert {event.get("router_model") for event in events} >= {"no-such-model", model["router_id"]}
    report = workspace.api("GET", "/v2/usage", params={"group_by": "model"}).json()
    assert {row["group"] for row in report["series"]} >= {"no-such-model", model["router_id"]}


def test_body_logging_per_workspace_with_redaction(
    relaygate: RelaygateServer, workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream)["router_id"]
    setting = workspace.api("GET", "/v2/workspace/logging").json()
    assert setting["log_bodies"] is False
    assert setting["own_setting"] is False
    assert setting["retention_days"] == 30
    before = _call(workspace, model)
    turned = workspace.api("PATCH", "/v2/workspace/logging", json={"log_bodies": True, "retention_days": 7})
    assert turned.status_code == 200, turned.text
    assert turned.json()["log_bodies"] is True
    assert turned.json()["retention_days"] == 7
    secret = "sk-proj-" + "a1B2c3D4e5F6g7H8i9"
    raw = workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": f"my key is {secret}, Bearer abc.def.ghi"}]
    )
    logged = raw.headers["x-request-id"]
    _logs(workspace, 2)
    detail = workspace.api("GET", f"/v2/logs/{logged}").json()
    assert detail["request_body"] is not None
    assert "my key is [redacted]" in detail["request_body"]
    assert secret not in detail["request_body"]
    assert "abc.def.ghi" not in detail["request_body"]
    assert detail["response_body"] is not None
    assert detail["has_bodies"] is True
    assert workspace.api("GET", f"/v2/logs/{before}").json().get("request_body") is None
    other = relaygate.new_workspace()  # another workspace on the same server logs nothing
    other_model = other.add_model(fake_upstream)["router_id"]
    other_id = _call(other, other_model)
    _logs(other, 1)
    assert other.api("GET", f"/v2/logs/{other_id}").json().get("request_body") is None
    off = workspace.api("PATCH", "/v2/workspace/logging", json={"log_bodies": False})
    assert off.json() | {"retention_days": 7} == off.json()  # the retention stays
    after = _call(workspace, model)
    _logs(workspace, 3)
    assert workspace.api("GET", f"/v2/logs/{after}").json().get("request_body") is None
    bad = workspace.api("PATCH", "/v2/workspace/logging", json={"retention_days": 0})
    assert_openai_error(bad, 400, "invalid_request_error")


def test_bodies_bounded(relaygate_factory: Any, fake_upstream: FakeUpstream) -> None:
    server = relaygate_factory(RELAYGATE_LOG_BODIES="1", RELAYGATE_LOG_BODY_BYTES="200")
    workspace = server.new_workspace()
    assert workspace.api("GET", "/v2/workspace/logging").json()["log_bodies"] is True  # the server's default
    model = workspace.add_model(fake_upstream)["router_id"]
    raw = workspace.client().chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "x" * 1000}]
    )
    request_id = raw.headers["x-request-id"]
    _logs(workspace, 1)
    body = workspace.api("GET", f"/v2/logs/{request_id}").json()["request_body"]
    assert body.startswith("{")
    assert "[cut: " in body
    assert len(body) < 300


async def _backdate(server: RelaygateServer, workspace_request_ids: list[str], days: int) -> None:
    engine = create_engine(Settings.from_env(server.env))
    try:
        events = tables.usage_events
        async with engine.begin() as conn:
            await conn.execute(
                update(events)
                .where(events.c.request_id.in_(workspace_request_ids))
                .values(created_at=datetime.now(UTC) - timedelta(days=days))
            )
    finally:
        await engine.dispose()


def test_retention_sweep_drops_old_bodies_only(
    relaygate: RelaygateServer, workspace: Workspace, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream)["router_id"]
    workspace.api("PATCH", "/v2/workspace/logging", json={"log_bodies": True, "retention_days": 2})
    old, recent = _call(workspace, model), _call(workspace, model)
    _logs(workspace, 2)
    asyncio.run(_backdate(relaygate, [old], days=3))
    before = workspace.api("GET", f"/v2/logs/{old}").json()
    assert before["request_body"] is not None
    swept = workspace.api("POST", "/v2/workspace/logging/sweep")
    assert swept.status_code == 200, swept.text
    assert swept.json()["calls_blanked"] == 1
    after = workspace.api("GET", f"/v2/logs/{old}").json()
    assert after.get("request_body") is None
    assert after.get("response_body") is None
    assert after["tokens"] == before["tokens"]  # the numbers stay
    assert after["cost_nano"] == before["cost_nano"]
    assert workspace.api("GET", f"/v2/logs/{recent}").json()["request_body"] is not None


def _tail(workspace: Workspace, params: dict[str, Any], found: list[dict[str, Any]], want: int) -> None:
    headers = {"authorization": f"Bearer {workspace.admin_key}"}
    url = workspace.server.url + "/v2/logs/stream"
    with httpx.stream("GET", url, params=params, headers=headers, timeout=20) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                found.append({"event": event, **orjson.loads(line[6:])})
                if sum(1 for item in found if item["event"] == "entry") >= want:
                    return


def test_live_tail(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    model = workspace.add_model(fake_upstream)["router_id"]
    other = workspace.add_model(fake_upstream, provider="other")["router_id"]
    _call(workspace, model)  # before the tail: not sent
    _logs(workspace, 1)
    found: list[dict[str, Any]] = []
    reader = threading.Thread(target=_tail, args=(workspace, {"model": model}, found, 2))
    reader.start()
    deadline = time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        time.sleep(0.02)
    assert found[0]["event"] == "ready"
    sent = [_call(workspace, model), _call(workspace, other), _call(workspace, model)]
    reader.join(timeout=20)
    assert not reader.is_alive()
    entries = [item for item in found if item["event"] == "entry"]
    assert [entry["request_id"] for entry in entries] == [sent[0], sent[2]]  # the filter holds
    assert all(entry["model"]["used"] == model for entry in entries)
