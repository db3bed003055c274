"""Uploads routed like JSON calls: relaygate's fields sent as form fields, as the OpenAI SDK
sends an upload's ``extra_body`` (bracket notation), or as one field of JSON text."""

from __future__ import annotations

import os
from typing import Any

from router.conftest import ModelMaker

from support.server import Workspace
from support.usage_events import usage_event
from tests_shared import assert_openai_error
from upstream.faults import Fault

WAV = b"RIFF" + os.urandom(20_000)
FILES: Any = {"file": ("a.wav", WAV, "audio/wav")}


def test_an_upload_is_retried_and_falls_back_with_its_body_sent_again(
    routed: Workspace, make_model: ModelMaker
) -> None:
    primary, first = make_model("down", "stt")
    backup, second = make_model("up", "stt")
    first.script("/audio/transcriptions", [Fault(status=503), Fault(status=503)])
    routing = {"retry": {"count": 1, "on_codes": [503]}, "fallbacks": [{"model": backup}]}
    with routed.client() as client:
        raw = client.audio.transcriptions.with_raw_response.create(
            model=primary, file=FILES["file"], language="en", extra_body=routing
        )
    assert raw.parse().text
    assert raw.headers["x-relaygate-attempts"] == "3"
    assert raw.headers["x-relaygate-model"] == backup
    assert raw.headers["x-relaygate-fallback"] == "true"
    for upstream, attempts in ((first, 2), (second, 1)):
        received = upstream.requests_to("/audio/transcriptions")
        assert len(received) == attempts
        for request in received:
            assert request.files()["file"] == WAV, "the same bytes on every attempt"
            form = request.form()
            assert form["model"] == "whisper-test"
            assert form["language"] == "en"
            assert not [name for name in form if name.startswith(("retry", "fallbacks"))]


def test_fields_as_json_text_and_who_called_are_honoured(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("solo", "stt")
    data = {
        "model": model,
        "timeout": '{"call_timeout": 5000}',
        "identity[id]": "user-7",
        "metadata[count]": "5",
        "name": "meeting-notes",
    }
    response = routed.api("POST", "/v3/router/audio/transcriptions", data=data, files=FILES)
    assert response.status_code == 200, response.text
    assert set(upstream.requests_to("/audio/transcriptions")[-1].form()) == {"model"}
    event = usage_event(routed, response.headers["x-request-id"])
    assert event["identity_id"] == "user-7"
    assert event["name"] == "meeting-notes"
    assert event["metadata"] == {"count": "5"}, "metadata values stay text"


def test_a_bad_routing_field_in_a_form_is_400_naming_it(routed: Workspace, make_model: ModelMaker) -> None:
    model, upstream = make_model("strict", "stt")
    for data, param in (
        ({"model": model, "retry[count]": "9"}, "retry.count"),
        ({"model": model, "fallbacks": "[not json"}, "fallbacks"),
        ({"model": model, "retry[count]": "1", "retry[count][x]": "1"}, "retry"),
    ):
        response = routed.api("POST", "/v3/router/audio/transcriptions", data=data, files=FILES)
        body = assert_openai_error(response, 400, "invalid_request_error")
        assert body["error"]["param"] == param, body
        assert "Traceback" not in response.text
    assert upstream.requests_to("/audio/transcriptions") == []
