"""SSRF at connect time: the client connects to the address the guard checked, follows no
redirect, and judges every spelling of an internal address as internal."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from relaygate.errors import UpstreamRefused
from relaygate.upstream.ssrf import IPAddress, UpstreamGuard, literal_ip
from relaygate.upstream.transport import ConnectFailed, PyreqwestTransport

from support.server import Workspace
from tests_shared import assert_openai_error
from upstream import FakeUpstream
from upstream.faults import Fault
from upstream.fixtures import UpstreamFactory


class ChangingDns(UpstreamGuard):
    """A resolver that answers what the test says, in turn: a rebinding attacker's DNS."""

    def __init__(self, answers: list[str], allowlist: tuple[str, ...]) -> None:
        super().__init__(allow_private=False, allowlist=allowlist)
        self.answers = answers

    async def lookup(self, host: str, port: int) -> list[IPAddress]:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [ipaddress.ip_address(answer)]


async def _get(transport: PyreqwestTransport, url: str) -> int:
    response = await transport.send("GET", url, [("authorization", "Bearer sk-up-test")], None, stream=False)
    return response.status


def test_connections_go_to_the_checked_address(fake_upstream: FakeUpstream) -> None:
    url = f"http://localhost:{fake_upstream.port}/v1/models"

    async def scenario() -> None:
        # The check saw 127.0.0.1 (allowed): the call reaches the upstream on 127.0.0.1.
        allowed = PyreqwestTransport(
            ChangingDns(["127.0.0.1"], ("127.0.0.1/32",)), connect_timeout=2, read_timeout=5
        )
        assert await _get(allowed, url) == 200
        await allowed.aclose()
        # The check saw 127.0.0.2 (allowed); the system resolver would say 127.0.0.1, where the
        # upstream listens. Pinned to the checked address, the call cannot reach it.
        pinned = PyreqwestTransport(
            ChangingDns(["127.0.0.2"], ("127.0.0.2/32",)), connect_timeout=2, read_timeout=5
        )
        with pytest.raises(ConnectFailed):
            await _get(pinned, url)
        await pinned.aclose()

    asyncio.run(scenario())
    assert len(fake_upstream.requests) == 1


def test_a_rebinding_answer_is_refused_when_the_name_is_resolved_again(fake_upstream: FakeUpstream) -> None:
    url = f"http://localhost:{fake_upstream.port}/v1/models"

    async def scenario() -> None:
        guard = ChangingDns(["127.0.0.1", "169.254.169.254"], ("127.0.0.1/32",))
        transport = PyreqwestTransport(guard, connect_timeout=2, read_timeout=5, dns_ttl=0)
        assert await _get(transport, url) == 200
        with pytest.raises(UpstreamRefused, match="link-local"):
            await _get(transport, url)  # the TTL ran out: resolved and checked again
        await transport.aclose()

    asyncio.run(scenario())


def test_redirects_are_not_followed(workspace: Workspace, fake_upstream_factory: UpstreamFactory) -> None:
    first, target = fake_upstream_factory(), fake_upstream_factory()
    model = workspace.add_model(first, "gpt-test")
    redirect = Fault(status=307, raw_body=b"", headers={"location": target.url + "/chat/completions"})
    first.script("/chat/completions", [redirect])
    response = workspace.api(
        "POST",
        "/v3/router/chat/completions",
        json={"model": model["router_id"], "messages": [{"role": "user", "content": "x"}]},
    )
    assert assert_openai_error(response, 502, "api_error")["error"]["code"] == "upstream_invalid_response"
    assert "redirect" in response.json()["error"]["message"]
    assert target.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::ffff:a9fe:a9fe]",  # 169.254.169.254, IPv4-mapped
        "[::ffff:10.0.0.1]",
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of the metadata address
        "[fe80::1]",
        "[::]",
        "[fd00:ec2::254]",
        "0x7f000001",
        "0177.0.0.01",
        "127.1",
        "①②⑦.0.0.1",  # full-width digits, normalised by IDNA to 127.0.0.1
    ],
)
def test_internal_spellings_are_refused(host: str) -> None:
    guard = UpstreamGuard(allow_private=False)

    async def check() -> None:
        await guard.check_url(f"http://{host}/v1")

    with pytest.raises(UpstreamRefused):
        asyncio.run(check())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http:///v1", "no host"),
        ("http://user:pw@api.example.com/v1", "credentials"),
        ("gopher://api.example.com/", "http or https"),
        ("http://api.example.com:99999/", "not a valid URL"),
    ],
)
def test_urls_the_client_would_read_differently_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UpstreamRefused, match=reason):
        UpstreamGuard(allow_private=False).parse(url)


def test_backslash_tricks_are_judged_on_the_host_the_client_uses() -> None:
    # WHATWG (the client's parser) reads the host as a.example, not as 127.0.0.1.
    origin = UpstreamGuard(allow_private=False).parse("http://a.example\\@127.0.0.1/v1")
    assert origin.host == "a.example"
    assert literal_ip("a.example") is None
