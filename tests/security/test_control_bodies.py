"""The control plane (/v2) authenticates before it reads a body, and bounds the body it reads."""

from __future__ import annotations

import contextlib
import select
import socket
import time
from pathlib import Path

import pytest

from security.helpers import ServerFactory

from support.server import RelaygateServer, Workspace
from tests_shared import assert_openai_error

CREATE = "/v2/models/openai-like"
MIB = 1024 * 1024
_PIECE = b"1" * 65536


def _rss_bytes(pid: int) -> int:
    """The resident memory of a process and its children (granian serves from worker processes)."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) * 1024
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += _rss_bytes(int(child))
    return total


def _head(path: str, size: int, key: str | None, chunked: bool) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", "Content-Type: application/json"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    if key is not None:
        lines.append(f"Authorization: Bearer {key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _post_until_answered(
    server: RelaygateServer, size: int, key: str | None = None, *, chunked: bool = False
) -> tuple[bytes, int]:
    """POST ``size`` bytes of body as a client streaming it would, stopping once the server
    answers or hangs up; the answer and how many body bytes went out."""
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_head(CREATE, size, key, chunked))
        sock.setblocking(False)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < size:
                readable, writable, _ = select.select([sock], [sock], [], 10)
                if readable or not writable:
                    break
                sent += _send_chunk(sock) if chunked else sock.send(_PIECE[: size - sent])
        sock.setblocking(True)
        chunks: list[bytes] = []
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if _complete(b"".join(chunks)):
                    break
    return b"".join(chunks), sent


def _send_chunk(sock: socket.socket) -> int:
    sock.setblocking(True)  # a whole chunk, so that the framing stays valid
    try:
        sock.sendall(b"%x\r\n%s\r\n" % (len(_PIECE), _PIECE))
    finally:
        sock.setblocking(False)
    return len(_PIECE)


def _complete(answer: bytes) -> bool:
    head, separator, body = answer.partition(b"\r\n\r\n")
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return bool(separator) and len(body) >= int(line.split(b":")[1])
    return False


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def test_a_huge_body_without_a_key_is_refused_before_it_is_read(relaygate: RelaygateServer) -> None:
    assert relaygate.process is not None
    before = _rss_bytes(relaygate.process.pid)
    started = time.monotonic()
    answer, sent = _post_until_answered(relaygate, 200 * MIB)
    assert _status(answer) == 401, answer[:300]
    assert b'"authentication_error"' in answer
    assert b'"missing_api_key"' in answer
    assert time.monotonic() - started < 10
    assert sent < 50 * MIB, f"the client could send {sent} bytes before the answer"
    growth = _rss_bytes(relaygate.process.pid) - before
    assert growth < 8 * MIB, f"the server grew by {growth / MIB:.1f} MiB"


@pytest.mark.parametrize("chunked", [False, True], ids=["declared-length", "chunked"])
def test_a_body_past_the_bound_is_413_with_a_valid_key(workspace: Workspace, chunked: bool) -> None:
    answer, sent = _post_until_answered(workspace.server, 200 * MIB, workspace.admin_key, chunked=chunked)
    assert _status(answer) == 413, answer[:300]
    assert b'"request_too_large"' in answer
    assert b"RELAYGATE_MAX_CONTROL_BODY_BYTES" in answer
    assert sent < 50 * MIB


def test_a_router_key_is_refused_before_the_body(workspace: Workspace) -> None:
    answer, _ = _post_until_answered(workspace.server, 200 * MIB, workspace.new_key("router"))
    assert _status(answer) == 403, answer[:300]


def test_the_bound_is_configurable_and_the_auth_brake_still_applies(relaygate_factory: ServerFactory) -> None:
    server = relaygate_factory(
        RELAYGATE_MAX_CONTROL_BODY_BYTES="2048",
        RELAYGATE_AUTH_FAILURE_LIMIT="2",
        RELAYGATE_AUTH_FAILURE_WINDOW="60",
    )
    body = {"model_type": "chat", "display_name": "x" * 100, "description": "y" * 3000}
    error = assert_openai_error(
        server.api("POST", CREATE, key=server.admin_key, json=body), 413, "invalid_request_error"
    )
    assert error["error"]["code"] == "request_too_large"
    small = server.api("POST", CREATE, key=server.admin_key, json={"model_type": "chat"})
    assert_openai_error(small, 400, "invalid_request_error")  # under the bound: read and validated
    for attempt in range(2):
        wrong = server.api("POST", CREATE, key=f"rg-wrong-{attempt}", json=body)
        assert_openai_error(wrong, 401, "authentication_error")
    braked = server.api("POST", CREATE, key="rg-wrong-again", json=body)
    assert (
        assert_openai_error(braked, 429, "rate_limit_error")["error"]["code"]
        == "too_many_failed_authentications"
    )


def test_invalid_json_names_no_field(workspace: Workspace) -> None:
    response = workspace.api(
        "POST", CREATE, content=b"12345 not json", headers={"content-type": "application/json"}
    )
    error = assert_openai_error(response, 400, "invalid_request_error")["error"]
    assert error["param"] is None
    assert error["code"] == "invalid_json"
    assert "12345" not in response.text


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("input_cost", "lots", "input_cost"),
        ("model_type", 7, "model_type"),
        ("max_tokens", [1], "max_tokens"),
    ],
)
def test_a_wrong_typed_field_is_named_in_param(
    workspace: Workspace, field: str, value: object, param: str
) -> None:
    body: dict[str, object] = {"model_type": "chat", "base_url": "http://127.0.0.1:9", "model_id": "m"}
    body |= {"api_key": "k", "display_name": "x", field: value}
    response = workspace.api("POST", CREATE, json=body)
    assert assert_openai_error(response, 400, "invalid_request_error")["error"]["param"] == param


def test_a_body_that_is_not_an_object_names_no_field(workspace: Workspace) -> None:
    response = workspace.api("POST", CREATE, json=[1, 2, 3])
    assert assert_openai_error(response, 400, "invalid_request_error")["error"]["param"] is None
