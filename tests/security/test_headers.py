"""Security headers on the control plane and the Studio; CORS off unless configured."""

from __future__ import annotations

import httpx

from security.helpers import ServerFactory

from support.server import RelaygateServer


def test_api_answers_carry_security_headers(relaygate: RelaygateServer) -> None:
    for response in (
        relaygate.api("GET", "/v2/models", key=relaygate.admin_key),
        relaygate.api("GET", "/v2/models"),  # errors too
        httpx.get(f"{relaygate.url}/health"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "default-src 'none'" in response.headers["content-security-policy"]


def test_studio_keeps_its_own_policy(relaygate: RelaygateServer) -> None:
    response = httpx.get(f"{relaygate.url}/studio")
    if response.status_code == 404 and "studio" not in response.text.lower():
        return  # the Studio is not mounted in this build; the API test covers the middleware
    policy = response.headers.get_list("content-security-policy")
    assert len(policy) == 1, policy  # one policy, not ours and the Studio's fighting
    assert "script-src 'self'" in policy[0]
    assert "unsafe-inline" not in policy[0]
    assert "frame-ancestors 'none'" in policy[0]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_page_is_not_broken_by_the_policy(relaygate: RelaygateServer) -> None:
    response = httpx.get(f"{relaygate.url}/docs")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


def _preflight(server: RelaygateServer, path: str, origin: str) -> httpx.Response:
    return httpx.options(
        server.url + path,
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )


def test_cors_is_off_by_default(relaygate: RelaygateServer) -> None:
    response = _preflight(relaygate, "/v3/router/chat/completions", "https://evil.example")
    assert "access-control-allow-origin" not in response.headers
    simple = relaygate.api(
        "GET", "/v2/models", key=relaygate.admin_key, headers={"origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers


def test_cors_admits_exactly_the_configured_origins(relaygate_factory: ServerFactory) -> None:
    server = relaygate_factory(RELAYGATE_CORS_ORIGINS="https://app.example, https://studio.example")
    for path in ("/v3/router/chat/completions", "/v2/models"):
        allowed = _preflight(server, path, "https://app.example")
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        refused = _preflight(server, path, "https://evil.example")
        assert refused.headers.get("access-control-allow-origin") != "https://evil.example"
    listing = server.api(
        "GET", "/v3/router/models", key=server.admin_key, headers={"origin": "https://studio.example"}
    )
    assert listing.headers["access-control-allow-origin"] == "https://studio.example"
    assert "x-request-id" in listing.headers["access-control-expose-headers"]
