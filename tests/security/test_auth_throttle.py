"""Repeated failed authentications from one address are slowed; valid keys never are."""

from __future__ import annotations

import pytest

from relaygate.auth import AuthThrottle
from relaygate.errors import RateLimited
from relaygate.serving.client_address import TrustedProxies
from security.helpers import ServerFactory

from tests_shared import assert_openai_error


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _scope(client: str) -> dict[str, object]:
    return {"client": (client, 5000)}


def test_failures_over_the_limit_get_429_until_the_window_ends() -> None:
    clock = Clock()
    throttle = AuthThrottle(limit=3, window=60, clock=clock)
    for _ in range(3):
        throttle.failed(_scope("203.0.113.7"))
    with pytest.raises(RateLimited) as raised:
        throttle.failed(_scope("203.0.113.7"))
    assert raised.value.headers["Retry-After"] == "60"
    throttle.failed(_scope("203.0.113.8"))  # another client is not affected
    clock.now += 60
    throttle.failed(_scope("203.0.113.7"))  # a new window


def test_check_brakes_a_client_at_its_limit_without_counting() -> None:
    clock = Clock()
    throttle = AuthThrottle(limit=2, window=60, clock=clock)
    for _ in range(5):
        throttle.check(_scope("203.0.113.7"))  # checks alone never brake
    throttle.failed(_scope("203.0.113.7"))
    throttle.failed(_scope("203.0.113.7"))
    clock.now += 45
    with pytest.raises(RateLimited) as raised:
        throttle.check(_scope("203.0.113.7"))
    assert raised.value.headers["Retry-After"] == "15"
    assert raised.value.code == "too_many_failed_authentications"
    throttle.check(_scope("203.0.113.8"))


def test_memory_stays_bounded() -> None:
    clock = Clock()
    throttle = AuthThrottle(limit=3, window=60, max_clients=100, clock=clock)
    for index in range(1000):
        throttle.failed(_scope(f"10.0.{index // 256}.{index % 256}"))
    assert len(throttle) <= 100


def test_a_server_slows_guessing_but_not_valid_keys(relaygate_factory: ServerFactory) -> None:
    server = relaygate_factory(RELAYGATE_AUTH_FAILURE_LIMIT="3", RELAYGATE_AUTH_FAILURE_WINDOW="60")
    for attempt in range(3):
        response = server.api("GET", "/v3/router/models", key=f"rg-wrong-{attempt}")
        assert_openai_error(response, 401, "authentication_error")
    for path in ("/v3/router/models", "/v2/models"):
        response = server.api("GET", path, key="rg-wrong-again")
        error = assert_openai_error(response, 429, "rate_limit_error")["error"]
        assert error["code"] == "too_many_failed_authentications"
        assert int(response.headers["retry-after"]) > 0
    # The same address with a valid key is served at once, on both planes.
    assert server.api("GET", "/v3/router/models", key=server.admin_key).status_code == 200
    assert server.api("GET", "/v2/models", key=server.admin_key).status_code == 200
    # Another client (through a trusted proxy on loopback) is not slowed by the first one.
    other = server.api(
        "GET", "/v3/router/models", key="rg-wrong", headers={"x-forwarded-for": "198.51.100.9"}
    )
    assert_openai_error(other, 401, "authentication_error")


def test_the_client_behind_trusted_proxies_is_the_first_untrusted_hop_from_the_right() -> None:
    proxies = TrustedProxies("127.0.0.1, 10.0.0.0/8")
    assert proxies.client("127.0.0.1", "198.51.100.9") == "198.51.100.9"
    assert proxies.client("127.0.0.1", "203.0.113.5, 198.51.100.9, 10.1.2.3") == "198.51.100.9"
    assert proxies.client("127.0.0.1", "10.0.0.1, 10.0.0.2") == "10.0.0.1", "all trusted: the first"
    assert proxies.client("203.0.113.7", "198.51.100.9") == "203.0.113.7", "an untrusted peer is not believed"
    assert proxies.client("127.0.0.1", None) == "127.0.0.1"
    assert TrustedProxies("*").client("203.0.113.7", "198.51.100.9") == "198.51.100.9"
