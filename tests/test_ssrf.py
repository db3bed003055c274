"""Upstream URLs that point inside the network are refused unless the operator allows it."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.upstream.ssrf import UpstreamGuard, literal_ip

from support.server import RelaygateServer
from tests_shared import assert_openai_error


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from support.server import make_server

    server = make_server(tmp_path_factory.mktemp("strict"), RELAYGATE_ALLOW_PRIVATE_UPSTREAMS="")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000/v1",
        "http://localhost:8000/v1",
        "http://10.0.0.5/v1",
        "http://192.168.1.10/v1",
        "http://172.16.0.1/v1",
        "http://100.64.0.1/v1",
        "http://169.254.169.254/latest",
        "http://[::1]/v1",
        "http://[fd00:ec2::254]/v1",
        "http://[::ffff:127.0.0.1]/v1",
        "http://2130706433/v1",
        "http://0x7f.0.0.1/v1",
        "http://0177.0.0.1/v1",
        "http://0.0.0.0/v1",
        "http://224.0.0.1/v1",
    ],
)
def test_private_upstreams_are_refused(strict_server: RelaygateServer, base_url: str) -> None:
    body = {
        "api_key": "sk-x",
        "base_url": base_url,
        "display_name": "internal",
        "model_id": "m",
        "model_type": "chat",
        "region": "us",
    }
    response = strict_server.api("POST", "/v2/models/openai-like", key=strict_server.admin_key, json=body)
    error = assert_openai_error(response, 400, "invalid_request_error")["error"]
    assert error["code"] == "upstream_not_allowed"
    assert "RELAYGATE_ALLOW_PRIVATE_UPSTREAMS" in error["message"]


def test_only_http_and_https(strict_server: RelaygateServer) -> None:
    body = {"api_key": "k", "base_url": "file:///etc/passwd", "display_name": "x", "model_id": "m",
            "model_type": "chat", "region": "us"}  # fmt: skip
    response = strict_server.api("POST", "/v2/models/openai-like", key=strict_server.admin_key, json=body)
    assert "http or https" in assert_openai_error(response, 400, "invalid_request_error")["error"]["message"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("example.com", None),
    ],
)
def test_numeric_spellings_are_read_as_addresses(host: str, expected: str | None) -> None:
    ip = literal_ip(host)
    assert (str(ip) if ip else None) == expected


def test_allowlist_admits_named_networks() -> None:
    guard = UpstreamGuard(allow_private=False, allowlist=("10.1.0.0/16",))
    guard.check_ip(literal_ip("10.1.2.3"), "10.1.2.3")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="private"):
        guard.check_ip(literal_ip("10.2.0.1"), "10.2.0.1")  # type: ignore[arg-type]
