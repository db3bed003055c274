"""The fake upstream, driven by the official openai SDK (and raw HTTP where the SDK hides the wire)."""

from __future__ import annotations

import base64
import json
import socket
import struct
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from . import PNG_1X1, TRANSCRIPT, FakeUpstream, Fault, embedding_vector
from .fixtures import UpstreamFactory

KEY = "sk-up-test"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "say hello to me"}]
WEATHER: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}
TIME: ChatCompletionToolParam = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


@pytest.fixture(scope="module")
def module_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(api_key=KEY, supports_responses=True) as upstream:
        yield upstream


@pytest.fixture
def up(module_upstream: FakeUpstream) -> Iterator[FakeUpstream]:
    module_upstream.reset()
    yield module_upstream
    assert module_upstream.wait_idle(2.0), "a handler is still running after the test"


@pytest.fixture
def client(up: FakeUpstream) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=up.url, api_key=KEY, max_retries=0, timeout=5.0) as sdk:
        yield sdk


def raw(
    up: FakeUpstream, path: str, body: Any = None, *, key: str | None = KEY, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request (no SDK), returning status, lower-cased headers and the whole body."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(up.url + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if key is not None:
        request.add_header("authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def sse_data(payload: bytes) -> list[str]:
    return [line[len("data: ") :] for line in payload.decode().split("\n") if line.startswith("data: ")]


# --- chat completions ------------------------------------------------------------------------------


def test_chat_completion_has_openai_shape_and_word_usage(up: FakeUpstream, client: openai.OpenAI) -> None:
    result = client.chat.completions.create(model="gpt-test", messages=USER)
    assert result.id == "chatcmpl-fake000001"
    assert result.object == "chat.completion"
    assert result.created == 1_700_000_000
    assert result.model == "gpt-test"
    assert result.choices[0].message.content == "Hello from fake upstream"
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None
    usage = result.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 4, 8)
    recorded = up.requests[0]
    assert recorded.path == "/v1/chat/completions"
    assert recorded.headers["authorization"] == f"Bearer {KEY}"
    assert recorded.json == {"model": "gpt-test", "messages": USER}
    assert json.loads(recorded.body) == recorded.json


def test_chat_honours_n_max_tokens_and_logprobs(client: openai.OpenAI) -> None:
    result = client.chat.completions.create(
        model="gpt-test", messages=USER, n=2, max_tokens=2, logprobs=True, top_logprobs=2
    )
    assert [c.index for c in result.choices] == [0, 1]
    assert {c.message.content for c in result.choices} == {"Hello from"}
    assert {c.finish_reason for c in result.choices} == {"length"}
    assert result.usage is not None
    assert result.usage.completion_tokens == 4
    logprobs = result.choices[0].logprobs
    assert logprobs is not None
    assert logprobs.content is not None
    assert [t.token for t in logprobs.content] == ["Hello", " from"]
    assert len(logprobs.content[0].top_logprobs) == 2


def test_chat_stream_with_usage_matches_openai(up: FakeUpstream, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-test", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from fake upstream"
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 8
    status, headers, body = raw(
        up, "/chat/completions", {"model": "gpt-test", "messages": USER, "stream": True}
    )
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = sse_data(body)
    assert events[-1] == "[DONE]"
    assert all("usage" not in json.loads(e) for e in events[:-1])


def test_chat_tool_calls_parallel_and_streamed(client: openai.OpenAI) -> None:
    result = client.chat.completions.create(model="gpt-test", messages=USER, tools=[WEATHER, TIME])
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [  # type: ignore[union-attr]
        ("get_weather", {"city": "x", "days": 1}),
        ("get_time", {}),
    ]
    single = client.chat.completions.create(
        model="gpt-test", messages=USER, tools=[WEATHER, TIME], parallel_tool_calls=False
    )
    assert len(single.choices[0].message.tool_calls or []) == 1
    none = client.chat.completions.create(
        model="gpt-test", messages=USER, tools=[WEATHER], tool_choice="none"
    )
    assert none.choices[0].message.content == "Hello from fake upstream"
    arguments: dict[int, str] = {}
    finish = None
    for chunk in client.chat.completions.create(
        model="gpt-test", messages=USER, tools=[WEATHER, TIME], stream=True
    ):
        for delta_call in chunk.choices[0].delta.tool_calls or []:
            piece = delta_call.function.arguments if delta_call.function else ""
            arguments[delta_call.index] = arguments.get(delta_call.index, "") + (piece or "")
        finish = chunk.choices[0].finish_reason or finish
    assert finish == "tool_calls"
    assert json.loads(arguments[0]) == {"city": "x", "days": 1}
    assert json.loads(arguments[1]) == {}


def test_chat_json_schema_answer_is_valid(client: openai.OpenAI) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "number"}, "ok": {"type": "boolean"}},
        "required": ["name", "age", "ok"],
    }
    result = client.chat.completions.create(
        model="gpt-test",
        messages=USER,
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}},
    )
    assert json.loads(result.choices[0].message.content or "") == {"name": "x", "age": 1, "ok": True}


def test_auth_unknown_model_and_models_list(up: FakeUpstream, client: openai.OpenAI) -> None:
    status, _, body = raw(up, "/chat/completions", {"model": "gpt-test", "messages": USER}, key="wrong")
    assert status == 401
    assert json.loads(body) == {
        "error": {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="nope", messages=USER)
    assert info.value.code == "model_not_found"
    assert [m.id for m in client.models.list()][:2] == ["gpt-test", "embed-test"]
    assert raw(up, "/nowhere", {})[0] == 404


def test_responses_api_only_when_supported(
    client: openai.OpenAI, fake_upstream_factory: UpstreamFactory
) -> None:
    result = client.responses.create(model="gpt-test", input="say hello", max_output_tokens=50)
    assert result.output_text == "Hello from fake upstream"
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens) == (2, 4)
    events = list(client.responses.create(model="gpt-test", input="say hello", stream=True))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    deltas = "".join(getattr(e, "delta", "") for e in events if e.type == "response.output_text.delta")
    assert deltas == "Hello from fake upstream"
    plain = fake_upstream_factory(api_key=None)
    with (
        openai.OpenAI(base_url=plain.url, api_key="any", max_retries=0) as other,
        pytest.raises(openai.NotFoundError),
    ):
        other.responses.create(model="gpt-test", input="hi")


# --- other endpoints -------------------------------------------------------------------------------


def test_completions_plain_and_streamed(client: openai.OpenAI) -> None:
    result = client.completions.create(model="gpt-test", prompt="once upon a time")
    assert result.object == "text_completion"
    assert result.choices[0].text == "Hello from fake upstream"
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (4, 4)
    chunks = list(
        client.completions.create(
            model="gpt-test", prompt="hi", stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Hello from fake upstream"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 5


def test_embeddings_float_and_base64_agree(up: FakeUpstream, client: openai.OpenAI) -> None:
    as_float = client.embeddings.create(
        model="embed-test", input=["alpha", "beta gamma"], encoding_format="float"
    )
    assert [d.index for d in as_float.data] == [0, 1]
    assert as_float.data[0].embedding == embedding_vector("alpha", 8)
    assert as_float.usage.prompt_tokens == 3
    status, _, body = raw(
        up,
        "/embeddings",
        {"model": "embed-test", "input": "alpha", "encoding_format": "base64", "dimensions": 4},
    )
    encoded = json.loads(body)["data"][0]["embedding"]
    assert status == 200
    assert list(struct.unpack("<4f", base64.b64decode(encoded))) == embedding_vector("alpha", 4)
    sdk_default = client.embeddings.create(model="embed-test", input="alpha")  # the SDK asks for base64
    assert sdk_default.data[0].embedding == as_float.data[0].embedding


def test_images_generation_and_edit(up: FakeUpstream, client: openai.OpenAI) -> None:
    generated = client.images.generate(model="image-test", prompt="a cat", n=2)
    assert generated.data is not None
    assert [d.url for d in generated.data] == [
        f"{up.url}/fake-files/image-0.png",
        f"{up.url}/fake-files/image-1.png",
    ]
    as_b64 = client.images.generate(model="image-test", prompt="a cat", response_format="b64_json")
    assert as_b64.data is not None
    assert base64.b64decode(as_b64.data[0].b64_json or "") == PNG_1X1
    edited = client.images.edit(model="image-test", image=("in.png", PNG_1X1, "image/png"), prompt="blue")
    assert edited.data is not None
    assert edited.data[0].revised_prompt == "blue"
    recorded = up.last_request
    assert recorded.path == "/v1/images/edits"
    assert recorded.form()["model"] == "image-test"
    assert recorded.files()["image"] == PNG_1X1
    assert PNG_1X1 in recorded.body


def test_audio_speech_and_transcriptions(up: FakeUpstream, client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="tts-test", voice="alloy", input="one two"
    ) as speech:
        assert speech.headers["content-type"] == "audio/mpeg"
        audio = speech.read()
    assert len(audio) == 512
    assert audio.startswith(b"ID3")
    upload = ("a.wav", b"RIFF" + bytes(range(256)), "audio/wav")
    assert client.audio.transcriptions.create(model="whisper-test", file=upload).text == TRANSCRIPT
    assert up.last_request.files()["file"] == upload[1]
    text = client.audio.transcriptions.create(model="whisper-test", file=upload, response_format="text")
    assert text.strip() == TRANSCRIPT
    srt = client.audio.transcriptions.create(model="whisper-test", file=upload, response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,000\n")
    vtt = client.audio.transcriptions.create(model="whisper-test", file=upload, response_format="vtt")
    assert vtt.startswith("WEBVTT")
    with warnings.catch_warnings():  # the SDK marks translations deprecated; the endpoint still exists
        warnings.simplefilter("ignore", DeprecationWarning)
        assert client.audio.translations.create(model="whisper-test", file=upload).text == TRANSCRIPT
    assert up.last_request.path == "/v1/audio/translations"
    verbose = client.audio.transcriptions.create(
        model="whisper-test", file=upload, response_format="verbose_json"
    )
    assert verbose.segments is not None
    assert verbose.segments[0].text == TRANSCRIPT
    events = list(client.audio.transcriptions.create(model="whisper-test", file=upload, stream=True))
    assert [e.type for e in events][-1] == "transcript.text.done"
    assert "".join(getattr(e, "delta", "") for e in events[:-1]) == TRANSCRIPT


def test_moderations_and_rerank(up: FakeUpstream, client: openai.OpenAI) -> None:
    moderation = client.moderations.create(input=["a nice day", "I will kill it"])
    assert [r.flagged for r in moderation.results] == [False, True]
    body = {
        "model": "rerank-test",
        "query": "red apple",
        "documents": ["a green pear", "a red apple", {"text": "red car"}],
        "top_n": 2,
        "return_documents": True,
    }
    status, _, payload = raw(up, "/rerank", body)
    assert status == 200
    result = json.loads(payload)
    assert [(r["index"], r["relevance_score"]) for r in result["results"]] == [(1, 1.0), (2, 0.5)]
    assert result["results"][0]["document"] == {"text": "a red apple"}
    assert result["usage"] == {"total_tokens": 10}
    via_sdk = client.post("/rerank", cast_to=object, body={**body, "return_documents": False})
    assert isinstance(via_sdk, dict)
    assert "document" not in via_sdk["results"][0]


# --- faults ----------------------------------------------------------------------------------------


def test_429_then_200_is_retried_by_the_sdk(up: FakeUpstream) -> None:
    up.script("/chat/completions", [Fault(status=429, headers={"retry-after": "0.01"}), Fault(status=200)])
    with openai.OpenAI(base_url=up.url, api_key=KEY, max_retries=1) as retrying:
        result = retrying.chat.completions.create(model="gpt-test", messages=USER)
    assert result.choices[0].message.content == "Hello from fake upstream"
    assert len(up.requests_to("/chat/completions")) == 2
    assert up.pending("/chat/completions") == 0


def test_scripted_error_body_and_raw_body(up: FakeUpstream, client: openai.OpenAI) -> None:
    up.script(
        "/v1/chat/completions",
        [
            Fault(status=503),
            Fault(status=400, body={"error": {"message": "custom", "type": "x", "param": None, "code": "c"}}),
            Fault(raw_body=b"{not json", content_type="text/html"),
        ],
    )
    with pytest.raises(openai.InternalServerError) as server_error:
        client.chat.completions.create(model="gpt-test", messages=USER)
    assert server_error.value.status_code == 503
    with pytest.raises(openai.BadRequestError, match="custom"):
        client.chat.completions.create(model="gpt-test", messages=USER)
    status, headers, body = raw(up, "/chat/completions", {"model": "gpt-test", "messages": USER})
    assert (status, headers["content-type"], body) == (200, "text/html", b"{not json")


def test_disconnect_mid_stream_raises_on_the_client(up: FakeUpstream, client: openai.OpenAI) -> None:
    up.script("/chat/completions", [Fault(disconnect_after=2)])
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError):  # noqa: PT012 - the error comes while iterating
        for chunk in client.chat.completions.create(model="gpt-test", messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content or "")
    assert received == ["", "Hello"]
    assert up.aborts == 1


def test_malformed_sse_inserts_garbage(up: FakeUpstream) -> None:
    up.script("/chat/completions", [Fault(malformed_sse=True)])
    _, _, body = raw(up, "/chat/completions", {"model": "gpt-test", "messages": USER, "stream": True})
    assert b"this line is not sse" in body
    assert body.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
def test_line_ending_changes_how_stream_lines_end(up: FakeUpstream, ending: bytes) -> None:
    up.script("/chat/completions", [Fault(line_ending=ending)])
    _, _, body = raw(up, "/chat/completions", {"model": "gpt-test", "messages": USER, "stream": True})
    assert body.endswith(b"data: [DONE]" + ending * 2)
    assert b"\n" not in body.replace(b"\r\n", b"")


def test_delay_and_chunk_delay(up: FakeUpstream) -> None:
    up.script("/chat/completions", [Fault(delay=0.2), Fault(chunk_delay=0.05)])
    started = time.monotonic()
    raw(up, "/chat/completions", {"model": "gpt-test", "messages": USER})
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    raw(up, "/chat/completions", {"model": "gpt-test", "messages": USER, "stream": True})
    assert time.monotonic() - started >= 0.05 * 6  # 7 events, 6 gaps


def test_never_ending_stream_stops_when_client_leaves(up: FakeUpstream) -> None:
    up.script("/chat/completions", [Fault(never_ending=True, chunk_delay=0.005)])
    with openai.OpenAI(base_url=up.url, api_key=KEY, max_retries=0) as sdk:
        stream = sdk.chat.completions.create(model="gpt-test", messages=USER, stream=True)
        for count, _ in enumerate(stream):
            if count == 20:
                break
        stream.close()
    assert up.wait_idle(2.0)
    assert up.client_disconnects == 1


def test_slow_loris_trickles_bytes(up: FakeUpstream) -> None:
    up.script("/chat/completions", [Fault(slow_loris=0.05)])
    with socket.create_connection(("127.0.0.1", up.port), timeout=2) as sock:
        body = json.dumps({"model": "gpt-test", "messages": USER}).encode()
        head = f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n"
        sock.sendall(head.encode() + f"content-length: {len(body)}\r\n\r\n".encode() + body)
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(4096)
        started = time.monotonic()
        after_headers = received.split(b"\r\n\r\n", 1)[1]
        while len(after_headers) < 3:
            after_headers += sock.recv(4096)
        assert time.monotonic() - started >= 0.05
        assert len(after_headers) <= 4
    assert up.wait_idle(2.0)
    assert up.client_disconnects == 1


def test_requests_are_recorded_before_the_answer(up: FakeUpstream) -> None:
    up.script("/embeddings", [Fault(delay=1.0)])
    with openai.OpenAI(base_url=up.url, api_key=KEY, max_retries=0, timeout=0.3) as impatient:
        with pytest.raises(openai.APITimeoutError):
            impatient.embeddings.create(model="embed-test", input="x")
        assert up.last_request.json == {"model": "embed-test", "input": "x", "encoding_format": "base64"}
    assert up.wait_idle(2.0)


def test_stop_aborts_open_streams(fake_upstream_factory: UpstreamFactory) -> None:
    upstream = fake_upstream_factory()
    upstream.script("/chat/completions", [Fault(never_ending=True, chunk_delay=0.01)])
    with openai.OpenAI(base_url=upstream.url, api_key=KEY, max_retries=0) as sdk:
        stream = sdk.chat.completions.create(model="gpt-test", messages=USER, stream=True)
        next(iter(stream))
        started = time.monotonic()
        upstream.stop()
        assert time.monotonic() - started < 3
        with pytest.raises(openai.APIConnectionError):
            list(stream)
    assert upstream.active_handlers == 0


def test_reply_function_extra_headers_and_model_lookup(fake_upstream_factory: UpstreamFactory) -> None:
    def echo(body: dict[str, Any]) -> str:
        return f"echo: {body['messages'][-1]['content']}"

    upstream = fake_upstream_factory(models=["gpt-test"], reply=echo)
    upstream.script("/chat/completions", [Fault(headers={"x-upstream-trace": "abc"})])
    with openai.OpenAI(base_url=upstream.url, api_key=KEY, max_retries=0) as sdk:
        raw_response = sdk.chat.completions.with_raw_response.create(model="gpt-test", messages=USER)
        assert raw_response.headers["x-upstream-trace"] == "abc"
        completion = raw_response.parse()
        assert completion.choices[0].message.content == "echo: say hello to me"
        assert completion.usage is not None
        assert completion.usage.completion_tokens == 5
        assert sdk.models.retrieve("gpt-test").owned_by == "fake-upstream"
        with pytest.raises(openai.NotFoundError):
            sdk.models.retrieve("embed-test")
