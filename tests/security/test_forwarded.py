"""What a trusted proxy says about the client (``FORWARDED_ALLOW_IPS``), on both servers."""

from __future__ import annotations

from security.helpers import ServerFactory


def test_the_control_plane_sees_the_scheme_a_trusted_proxy_gives(relaygate_factory: ServerFactory) -> None:
    """A TLS-terminating proxy on loopback (trusted by default): links the control plane
    builds say https, on either server. An untrusted proxy's word is not taken."""
    server = relaygate_factory()
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.9"}
    response = server.api("GET", "/v2/models/", key=server.admin_key, headers=forwarded)
    assert response.status_code == 307
    assert response.headers["location"].startswith("https://")
    untrusted = relaygate_factory(FORWARDED_ALLOW_IPS="10.0.0.1")
    response = untrusted.api("GET", "/v2/models/", key=untrusted.admin_key, headers=forwarded)
    assert response.status_code == 307
    assert response.headers["location"].startswith("http://")
