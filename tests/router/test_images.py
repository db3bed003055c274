"""Images through relaygate with the official SDK: generations (JSON), edits and variations
(multipart, streamed to the upstream with only the model field rewritten)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from support.server import Workspace
from support.usage_events import usage_events
from tests_shared import assert_openai_error
from upstream import PNG_1X1, FakeUpstream

MODEL = "fake/image-test"


class Capture:
    """The exact bytes the SDK put on the wire, through an httpx event hook."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def client(self) -> httpx.Client:
        return httpx.Client(event_hooks={"request": [self._hook]}, timeout=30)

    def _hook(self, request: httpx.Request) -> None:
        self.bodies.append(request.read())


def upstream_view(sent: bytes, router_id: str, upstream_id: str) -> bytes:
    """What the upstream must receive: the same bytes, the model field's value replaced."""
    field = b'name="model"\r\n\r\n'
    assert sent.count(field + router_id.encode() + b"\r\n") == 1
    return sent.replace(field + router_id.encode() + b"\r\n", field + upstream_id.encode() + b"\r\n")


@pytest.fixture
def client(workspace: Workspace) -> Iterator[openai.OpenAI]:
    with workspace.client() as sdk:
        yield sdk


@pytest.fixture
def image_model(workspace: Workspace, upstream: FakeUpstream) -> dict[str, Any]:
    return workspace.add_model(upstream, "image-test", model_type="image", supports_image_edit=True)


def test_generation_answers_url_and_b64_json(
    client: openai.OpenAI, workspace: Workspace, image_model: dict[str, Any], upstream: FakeUpstream
) -> None:
    as_url = client.images.generate(model=MODEL, prompt="a cat", n=2)
    assert as_url.data is not None
    assert len(as_url.data) == 2
    assert all(item.url and item.url.endswith(".png") for item in as_url.data)
    as_b64 = client.images.generate(model=MODEL, prompt="a cat", response_format="b64_json")
    assert as_b64.data is not None
    assert base64.b64decode(as_b64.data[0].b64_json or "") == PNG_1X1
    sent = upstream.requests_to("/images/generations")[-1].json
    assert sent == {"model": "image-test", "prompt": "a cat", "response_format": "b64_json"}


def test_edit_bytes_reach_the_upstream_unchanged_but_the_model(
    workspace: Workspace, image_model: dict[str, Any], upstream: FakeUpstream
) -> None:
    capture = Capture()
    image = PNG_1X1 + os.urandom(300_000)  # binary, bigger than one read
    mask = os.urandom(1000)
    with workspace.client(http_client=capture.client()) as client:
        edited = client.images.edit(
            model=MODEL,
            image=("cat.png", image, "image/png"),
            mask=("mask.png", mask, "image/png"),
            prompt="add a hat",
            n=1,
            size="256x256",
        )
    assert edited.data is not None
    assert edited.data[0].revised_prompt == "add a hat"
    received = upstream.requests_to("/images/edits")[-1]
    assert received.body == upstream_view(capture.bodies[-1], MODEL, "image-test")
    assert received.files()["image"] == image
    assert received.headers["content-length"] == str(len(received.body))


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK marks variations deprecated
def test_variation_is_forwarded(
    workspace: Workspace, image_model: dict[str, Any], upstream: FakeUpstream
) -> None:
    capture = Capture()
    with workspace.client(http_client=capture.client()) as client:
        varied = client.images.create_variation(model=MODEL, image=("cat.png", PNG_1X1, "image/png"), n=3)
    assert varied.data is not None
    assert len(varied.data) == 3
    received = upstream.requests_to("/images/variations")[-1]
    assert received.body == upstream_view(capture.bodies[-1], MODEL, "image-test")


def _form(boundary: str, parts: list[tuple[str, bytes, str | None]]) -> bytes:
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def _chunks(body: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_model_field_after_the_file_and_a_chunked_body(
    workspace: Workspace, image_model: dict[str, Any], upstream: FakeUpstream
) -> None:
    image = os.urandom(200_000)
    body = _form(
        "xyzzy", [("image", image, "a.png"), ("prompt", b"hat", None), ("model", MODEL.encode(), None)]
    )
    response = httpx.post(
        f"{workspace.server.url}/v3/router/images/edits",
        content=_chunks(body, 7_000),  # no content-length: chunked transfer
        headers={
            "authorization": f"Bearer {workspace.admin_key}",
            "content-type": "multipart/form-data; boundary=xyzzy",
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    received = upstream.requests_to("/images/edits")[-1]
    assert received.body == upstream_view(body, MODEL, "image-test")


def test_edit_needs_supports_image_edit(
    client: openai.OpenAI, workspace: Workspace, upstream: FakeUpstream
) -> None:
    model = workspace.add_model(upstream, "image-test", provider="noedit", model_type="image")
    before = len(upstream.requests_to("/images/edits"))
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.edit(model="noedit/image-test", image=("cat.png", PNG_1X1, "image/png"), prompt="hat")
    message = refused.value.message
    assert "noedit/image-test" in message
    assert "supports_image_edit" in message
    assert f"PATCH /v2/models/openai-like/{model['id']}" in message
    assert len(upstream.requests_to("/images/edits")) == before


def test_bad_multipart_bodies_get_openai_errors(workspace: Workspace, image_model: dict[str, Any]) -> None:
    url = f"{workspace.server.url}/v3/router/images/variations"
    auth = {"authorization": f"Bearer {workspace.admin_key}"}
    as_json = httpx.post(url, json={"model": MODEL}, headers=auth, timeout=30)
    assert (
        assert_openai_error(as_json, 400, "invalid_request_error")["error"]["code"] == "invalid_content_type"
    )
    no_model = _form("b0", [("image", PNG_1X1, "a.png")])
    headers = {**auth, "content-type": "multipart/form-data; boundary=b0"}
    missing = httpx.post(url, content=no_model, headers=headers, timeout=30)
    assert assert_openai_error(missing, 400, "invalid_request_error")["error"]["param"] == "model"
    garbage = httpx.post(url, content=os.urandom(20_000), headers=headers, timeout=30)
    assert assert_openai_error(garbage, 400, "invalid_request_error")["error"]["code"] == "invalid_multipart"


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_uploads_over_the_limit_get_413(relaygate_factory: Any, upstream: FakeUpstream) -> None:
    server = relaygate_factory(RELAYGATE_MAX_UPLOAD_BYTES="100000")
    workspace = server.new_workspace()
    workspace.add_model(upstream, "image-test", model_type="image")
    with workspace.client() as client, pytest.raises(openai.APIStatusError) as declared:
        client.images.create_variation(model=MODEL, image=("a.png", os.urandom(150_000), "image/png"))
    assert declared.value.status_code == 413
    body = _form("lim", [("model", MODEL.encode(), None), ("image", os.urandom(150_000), "a.png")])
    chunked = httpx.post(
        f"{server.url}/v3/router/images/variations",
        content=_chunks(body, 16_000),
        headers={
            "authorization": f"Bearer {workspace.admin_key}",
            "content-type": "multipart/form-data; boundary=lim",
        },
        timeout=30,
    )
    error = assert_openai_error(chunked, 413, "invalid_request_error")
    assert "RELAYGATE_MAX_UPLOAD_BYTES" in error["error"]["message"]


def test_generated_images_are_counted_and_priced(workspace: Workspace, upstream: FakeUpstream) -> None:
    workspace.add_model(upstream, "image-test", provider="priced", model_type="image", cost_per_image=0.04)
    with workspace.client() as client:
        client.images.generate(model="priced/image-test", prompt="a cat", n=3)
    (event,) = usage_events(workspace, 1)
    assert event["endpoint"] == "images.generations"
    assert event["images"] == 3
    assert event["cost"] == pytest.approx(0.12)
