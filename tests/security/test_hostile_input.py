"""Hostile request bodies and heads get an OpenAI-shaped 4xx, never a 500."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any

import httpx
import pytest

from support.server import RelaygateServer, Workspace
from tests_shared import assert_openai_error

CHAT = "/v3/router/chat/completions"


def _post(workspace: Workspace, raw: bytes) -> httpx.Response:
    return workspace.api("POST", CHAT, content=raw, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"model": "fake/gpt-test", "messages": [', "invalid_json"),
        (b'{"model": "fake/gpt-test", "temperature": 1e999}', "invalid_json"),
        (b'{"model": "fake/gpt-test", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}", "invalid_json"),
        (b'{"model": "fake/gpt-test", "x": ' + b"[" * 300 + b"]" * 300 + b"}", "json_too_deep"),
        (b"[1, 2]", "invalid_json"),
        (b"\xff\xfe\x00", "invalid_json"),
    ],
)
def test_malformed_bodies_are_400(
    workspace: Workspace, chat_model: dict[str, Any], raw: bytes, code: str
) -> None:
    error = assert_openai_error(_post(workspace, raw), 400, "invalid_request_error")["error"]
    assert error["code"] == code


@pytest.mark.parametrize(
    ("field", "value"),
    [("messages", "hello"), ("messages", {"role": "user"}), ("stream", "yes"), ("stream_options", [1])],
)
def test_wrong_types_of_fields_we_read_are_400(
    workspace: Workspace, chat_model: dict[str, Any], field: str, value: Any
) -> None:
    body = {"model": chat_model["router_id"], "messages": [{"role": "user", "content": "hi"}], field: value}
    response = workspace.api("POST", CHAT, json=body)
    assert assert_openai_error(response, 400, "invalid_request_error")["error"]["param"] == field


def test_too_many_messages(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    messages = [{"role": "user", "content": "x"}] * 2049
    response = workspace.api("POST", CHAT, json={"model": chat_model["router_id"], "messages": messages})
    assert assert_openai_error(response, 400, "invalid_request_error")["error"]["code"] == "too_many_messages"


def test_huge_integers_do_not_break_the_router(workspace: Workspace, chat_model: dict[str, Any]) -> None:
    raw = b'{"model": "%s", "messages": [{"role": "user", "content": "x"}], "seed": 1%s}' % (
        chat_model["router_id"].encode(),
        b"0" * 400,
    )
    assert _post(workspace, raw).status_code < 500


def _raw_request(server: RelaygateServer, head: bytes, piece: int | None = None) -> bytes:
    """``head`` sent whole, or ``piece`` bytes at a time with a pause between (one socket read each)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for start in range(0, len(head), piece or len(head)):
                sock.sendall(head[start : start + (piece or len(head))])
                if piece:
                    time.sleep(0.002)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_oversized_headers_get_431_and_the_connection_closes(relaygate: RelaygateServer) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    answer = _raw_request(relaygate, head)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    if os.environ.get("RELAYGATE_SERVER") != "granian":  # granian's parser answers with no body
        assert b"request_header_fields_too_large" in answer
    many = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20_000 + b"\r\n"
    assert _raw_request(relaygate, many).startswith(b"HTTP/1.1 431")


def test_normal_headers_and_large_bodies_still_pass(relaygate: RelaygateServer) -> None:
    headers = {f"x-extra-{index}": "v" * 100 for index in range(50)}
    assert httpx.get(f"{relaygate.url}/health", headers=headers).status_code == 200
    # A body far larger than the head limit, sent in one go with its head, is not a head.
    response = httpx.post(
        f"{relaygate.url}/v3/router/chat/completions",
        content=b'{"model": "none", "pad": "' + b"x" * 500_000 + b'"}',
        headers={"authorization": f"Bearer {relaygate.admin_key}", "content-type": "application/json"},
    )
    assert_openai_error(response, 404, "invalid_request_error")


def test_bad_content_length_is_400(relaygate: RelaygateServer) -> None:
    head = (
        b"POST /v3/router/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + relaygate.admin_key.encode()
        + b"\r\nContent-Length: 12abc\r\n\r\n{}"
    )
    answer = _raw_request(relaygate, head)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


HEAD_LIMIT = 64 * 1024  # RELAYGATE_MAX_HEADER_BYTES, the default


def _head_of(path: str, key: str, size: int) -> bytes:
    """A request head of exactly ``size`` bytes (request line, headers, blank line), padded in one header."""
    start = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {key}\r\nX-Pad: "
    end = b"\r\n\r\n"
    return start.encode() + b"a" * (size - len(start) - len(end)) + end


@pytest.mark.parametrize("path", ["/v3/router/models", "/v2/models"])
@pytest.mark.parametrize("piece", [None, 1000], ids=["one-send", "many-sends"])
@pytest.mark.parametrize(
    ("size", "status"), [(HEAD_LIMIT, b"200"), (HEAD_LIMIT + 1, b"431"), (100 * 1024, b"431")]
)
def test_the_head_bound_holds_however_the_head_arrives(
    relaygate: RelaygateServer, path: str, piece: int | None, size: int, status: bytes
) -> None:
    head = _head_of(path, relaygate.admin_key, size)
    assert len(head) == size
    answer = _raw_request(relaygate, head, piece)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]


def test_a_big_head_behind_a_pipelined_request_is_refused(relaygate: RelaygateServer) -> None:
    first = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = _raw_request(relaygate, first + _head_of("/v3/router/models", relaygate.admin_key, 100 * 1024))
    # The refusal goes out as soon as the head is refused, so it may come before the first answer.
    assert b"HTTP/1.1 200" in answer, answer[:400]
    assert b"HTTP/1.1 431" in answer, answer[:400]
