"""Claimed capabilities are tested by the probe, one check each; a claim the upstream ignores or
rejects is a warning and is saved off unless the user insists (force: true)."""

from __future__ import annotations

from typing import Any

from support.server import Workspace
from upstream import FakeUpstream, Fault, error_body


def _text_answer(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-probe",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-test",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _tool_answer(arguments: str) -> dict[str, Any]:
    call = {"id": "call_1", "type": "function", "function": {"name": "ping", "arguments": arguments}}
    answer = _text_answer("")
    answer["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": [call]}
    return answer


def _checks(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in model["metadata"]["validation"]["checks"]}


def _create(workspace: Workspace, upstream: FakeUpstream, **fields: Any) -> dict[str, Any]:
    return workspace.add_model(upstream, fields.pop("model_id", "gpt-test"), **fields)


def test_honoured_claims_pass_and_stay_on(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    claims = {"supports_tool_calling": True, "supports_strict_tool": True, "supports_vision": True}
    model = _create(workspace, fake_upstream, has_reasoning=True, **claims)
    checks = _checks(model)
    for name in (*claims, "has_reasoning"):
        assert checks[name]["status"] == "passed", checks[name]
        assert model["metadata"][name if name != "has_reasoning" else "supports_reasoning"] is True
    assert checks["supports_responses_api"]["status"] == "skipped"  # the fake has no /responses
    assert model["metadata"]["supports_responses_api"] is False
    sent = [r.json for r in fake_upstream.requests_to("/chat/completions")]
    forced = [body for body in sent if body.get("tool_choice")]
    assert forced[0]["tool_choice"] == {"type": "function", "function": {"name": "ping"}}
    assert forced[1]["tools"][0]["function"]["strict"] is True
    images = [body for body in sent if isinstance(body["messages"][0]["content"], list)]
    assert images[0]["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert any(body.get("response_format", {}).get("type") == "json_schema" for body in sent)


def test_ignored_tools_are_a_warning_and_saved_off(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    fake_upstream.script("/chat/completions", [Fault(), Fault(body=_text_answer("pong"))])
    model = _create(workspace, fake_upstream, supports_tool_calling=True)
    check = _checks(model)["supports_tool_calling"]
    assert check["status"] == "warning"
    assert "ignores tools" in check["message"]
    assert model["metadata"]["validation"]["status"] == "warning"
    assert model["metadata"]["supports_tool_calling"] is False
    assert model["has_functions"] is False


def test_force_keeps_a_disputed_claim(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    fake_upstream.script("/chat/completions", [Fault(), Fault(body=_text_answer("pong"))])
    model = _create(workspace, fake_upstream, supports_tool_calling=True, force=True)
    assert _checks(model)["supports_tool_calling"]["status"] == "warning"
    assert model["metadata"]["supports_tool_calling"] is True


def test_rejected_images_quote_the_upstream(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    rejection = error_body(400, "image input is not supported by this model")
    fake_upstream.script("/chat/completions", [Fault(), Fault(status=400, body=rejection)])
    model = _create(workspace, fake_upstream, supports_vision=True)
    check = _checks(model)["supports_vision"]
    assert check["status"] == "warning"
    assert "HTTP 400: image input is not supported by this model" in check["message"]
    assert model["metadata"]["supports_vision"] is False


def test_strict_schema_not_followed(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    fake_upstream.script("/chat/completions", [Fault(), Fault(), Fault(body=_tool_answer('{"wrong": 1}'))])
    model = _create(workspace, fake_upstream, supports_tool_calling=True, supports_strict_tool=True)
    checks = _checks(model)
    assert checks["supports_tool_calling"]["status"] == "passed"
    assert checks["supports_strict_tool"]["status"] == "warning"
    assert model["metadata"]["supports_tool_calling"] is True
    assert model["metadata"]["supports_strict_tool"] is False


def test_responses_api_is_detected(workspace: Workspace, fake_upstream_factory: Any) -> None:
    upstream = fake_upstream_factory(supports_responses=True)
    model = _create(workspace, upstream)
    assert _checks(model)["supports_responses_api"]["status"] == "passed"
    assert model["metadata"]["supports_responses_api"] is True


def test_full_probe_makes_the_paid_calls(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    listing_only = _create(workspace, fake_upstream, model_id="whisper-test", model_type="stt", provider="a")
    assert _checks(listing_only)["capability"]["status"] == "skipped"
    assert "full_probe" in _checks(listing_only)["capability"]["message"]
    assert fake_upstream.requests_to("/audio/transcriptions") == []
    full = _create(
        workspace, fake_upstream, model_id="whisper-test", model_type="stt", provider="b", full_probe=True
    )
    assert _checks(full)["capability"]["status"] == "passed"
    assert fake_upstream.requests_to("/audio/transcriptions")[-1].files()["file"].startswith(b"RIFF")
    edit = _create(
        workspace, fake_upstream, model_id="image-test", model_type="image", supports_image_edit=True
    )
    assert _checks(edit)["supports_image_edit"]["status"] == "skipped"
    assert edit["metadata"]["supports_image_edit"] is True  # untested claims are kept
    paid = _create(
        workspace,
        fake_upstream,
        model_id="image-test",
        model_type="image",
        provider="paid",
        supports_image_edit=True,
        full_probe=True,
    )
    assert _checks(paid)["supports_image_edit"]["status"] == "passed"
    assert fake_upstream.requests_to("/images/edits")[-1].form()["model"] == "image-test"
    assert fake_upstream.requests_to("/images/generations")[-1].json["model"] == "image-test"


def test_patch_that_claims_a_capability_tests_it(workspace: Workspace, fake_upstream: FakeUpstream) -> None:
    model = _create(workspace, fake_upstream)
    patch = {"display_name": "x", "model_type": "chat", "region": "us", "supports_vision": True}
    fake_upstream.script("/chat/completions", [Fault(), Fault(status=400, body=error_body(400, "no images"))])
    response = workspace.api("PATCH", f"/v2/models/openai-like/{model['id']}", json=patch)
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["supports_vision"] is False
    assert _checks(response.json())["supports_vision"]["status"] == "warning"
    fake_upstream.script("/chat/completions", [Fault(), Fault(status=400, body=error_body(400, "no images"))])
    forced = workspace.api("PATCH", f"/v2/models/openai-like/{model['id']}", json={**patch, "force": True})
    assert _checks(forced.json())["supports_vision"]["status"] == "warning"
    assert forced.json()["metadata"]["supports_vision"] is True
