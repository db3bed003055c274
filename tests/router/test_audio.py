"""Audio through relaygate with the official SDK: speech streamed back as bytes, transcriptions
and translations uploaded as multipart, every response format as the upstream sent it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from support.server import Workspace
from support.usage_events import usage_events
from upstream import TRANSCRIPT, FakeUpstream

TTS = "fake/tts-test"
STT = "fake/whisper-test"
WAV = b"RIFF" + os.urandom(50_000)


@pytest.fixture
def client(workspace: Workspace) -> Iterator[openai.OpenAI]:
    with workspace.client() as sdk:
        yield sdk


@pytest.fixture
def audio_models(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "tts-test", model_type="tts")
    workspace.add_model(upstream, "whisper-test", model_type="stt")


def _direct(upstream: FakeUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=upstream.url, api_key=upstream.api_key, max_retries=0)


def test_speech_streams_the_upstream_bytes_with_its_content_type(
    client: openai.OpenAI, workspace: Workspace, audio_models: None, upstream: FakeUpstream
) -> None:
    text = "hello there " * 20
    with _direct(upstream) as direct:
        expected = direct.audio.speech.create(model="tts-test", voice="alloy", input=text).content
    with client.audio.speech.with_streaming_response.create(model=TTS, voice="alloy", input=text) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        assert response.headers["x-relaygate-model"] == TTS
        chunks = list(response.iter_bytes())
    assert b"".join(chunks) == expected
    assert len(expected) > 10_000
    opus = client.audio.speech.create(model=TTS, voice="alloy", input="hi", response_format="opus")
    assert opus.response.headers["content-type"] == "audio/ogg"
    assert opus.content.startswith(b"OggS")
    sent = upstream.requests_to("/audio/speech")[-1].json
    assert sent == {"model": "tts-test", "voice": "alloy", "input": "hi", "response_format": "opus"}


def test_speech_under_the_seed_path(workspace: Workspace, audio_models: None) -> None:
    response = httpx.post(
        f"{workspace.server.url}/v3/router/speech",
        json={"model": TTS, "voice": "alloy", "input": "hi"},
        headers={"authorization": f"Bearer {workspace.admin_key}"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.content.startswith(b"ID3")


def test_transcription_upload_reaches_the_upstream_unchanged(
    workspace: Workspace, audio_models: None, upstream: FakeUpstream
) -> None:
    sent: list[bytes] = []
    hooks = {"request": [lambda request: sent.append(request.read())]}
    with workspace.client(http_client=httpx.Client(event_hooks=hooks, timeout=30)) as client:
        result = client.audio.transcriptions.create(
            model=STT, file=("a.wav", WAV, "audio/wav"), language="en"
        )
    assert result.text == TRANSCRIPT
    received = upstream.requests_to("/audio/transcriptions")[-1]
    field = b'name="model"\r\n\r\n'
    assert received.body == sent[-1].replace(field + STT.encode(), field + b"whisper-test")
    assert received.files()["file"] == WAV
    assert received.form()["language"] == "en"


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json"])
@pytest.mark.parametrize("task", ["transcriptions", "translations"])
def test_every_response_format_comes_back_as_the_upstream_sent_it(
    workspace: Workspace, audio_models: None, upstream: FakeUpstream, fmt: str, task: str
) -> None:
    files = {"file": ("a.wav", WAV, "audio/wav")}
    direct = httpx.post(
        f"{upstream.url}/audio/{task}",
        data={"model": "whisper-test", "response_format": fmt},
        files=files,
        headers={"authorization": f"Bearer {upstream.api_key}"},
        timeout=30,
    )
    routed = httpx.post(
        f"{workspace.server.url}/v3/router/audio/{task}",
        data={"model": STT, "response_format": fmt},
        files=files,
        headers={"authorization": f"Bearer {workspace.admin_key}"},
        timeout=30,
    )
    assert routed.status_code == 200, routed.text
    assert routed.content == direct.content
    assert routed.headers["content-type"] == direct.headers["content-type"]


def test_sdk_formats(client: openai.OpenAI, workspace: Workspace, audio_models: None) -> None:
    srt = client.audio.transcriptions.create(model=STT, file=("a.wav", WAV), response_format="srt")
    assert "-->" in srt
    verbose = client.audio.transcriptions.create(
        model=STT, file=("a.wav", WAV), response_format="verbose_json"
    )
    assert verbose.text == TRANSCRIPT


def test_streaming_transcription_events_pass_through(
    client: openai.OpenAI, workspace: Workspace, audio_models: None
) -> None:
    events: list[Any] = list(
        client.audio.transcriptions.create(model=STT, file=("a.wav", WAV, "audio/wav"), stream=True)
    )
    kinds = [event.type for event in events]
    assert kinds[-1] == "transcript.text.done"
    assert set(kinds[:-1]) == {"transcript.text.delta"}
    assert "".join(event.delta for event in events[:-1]) == TRANSCRIPT
    assert events[-1].text == TRANSCRIPT


def test_audio_usage_is_recorded(client: openai.OpenAI, workspace: Workspace, audio_models: None) -> None:
    client.audio.speech.create(model=TTS, voice="alloy", input="twelve chars")
    client.audio.transcriptions.create(model=STT, file=("a.wav", WAV, "audio/wav"))
    transcription, speech = usage_events(workspace, 2)
    assert (speech["endpoint"], speech["audio_characters"], speech["status"]) == ("audio.speech", 12, 200)
    assert (transcription["endpoint"], transcription["audio_seconds"]) == ("audio.transcriptions", 1.0)
