"""Which upstream addresses relaygate may connect to.

A base URL is checked when it is saved and again on the address the transport will
actually connect to: hosts are resolved here and the HTTP client is pinned to the
checked address, so a DNS answer that changes between check and connect (rebinding)
cannot reach an internal service. IPv4 in decimal, octal or hex spelling is read the
way URL parsers read it (``inet_aton``) before it is judged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from typing import NamedTuple
from urllib.parse import urlsplit

from pyreqwest.http import Url

from relaygate.errors import UpstreamRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # an IPv4 address behind a NAT64 gateway
_HOW_TO_ALLOW = (
    "set RELAYGATE_ALLOW_PRIVATE_UPSTREAMS=1, or add the host or its network to "
    "RELAYGATE_UPSTREAM_ALLOWLIST (comma-separated hosts and CIDRs), to allow internal upstreams"
)


class Origin(NamedTuple):
    """Where a URL points; a tuple, so hashing and comparing it (a dict key per call) stay in C."""

    scheme: str
    host: str
    port: int

    @property
    def is_ip_literal(self) -> bool:
        return literal_ip(self.host) is not None


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling URL parsers accept."""
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(candidate):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(candidate.rstrip(".")))
        except OSError:
            return None
    return None


def _nat64(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _forbidden_reason(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        for embedded in (ip.ipv4_mapped, ip.sixtofour, (ip.teredo or (None, None))[1], _nat64(ip)):
            if embedded is not None:
                return _forbidden_reason(embedded)
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local (cloud metadata lives here)"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not publicly routable"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


class UpstreamGuard:
    def __init__(self, allow_private: bool, allowlist: tuple[str, ...] = ()) -> None:
        self.allow_private = allow_private
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._hosts: set[str] = set()
        self._suffixes: list[str] = []
        for entry in allowlist:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                name = entry.lower().rstrip(".")
                if name.startswith("*."):
                    self._suffixes.append(name[1:])
                else:
                    self._hosts.add(name)

    def parse(self, url: str) -> Origin:
        """Scheme and host rules that hold whatever the host resolves to."""
        # Parsed by the HTTP client's own (WHATWG) parser: the host judged here is the host
        # it connects to, whatever tricks the URL plays (backslashes, empty authority, IDNA).
        try:
            parts = Url(url)
        except ValueError as exc:
            raise UpstreamRefused(f"base_url is not a valid URL: {exc}", param="base_url") from None
        if parts.scheme not in ("http", "https"):
            raise UpstreamRefused("base_url must use http or https", param="base_url")
        host = parts.host_str
        try:
            python_host = urlsplit(url).hostname
        except ValueError:
            python_host = None
        if not host or python_host is None:
            raise UpstreamRefused("base_url has no host", param="base_url")
        if parts.username or parts.password:
            raise UpstreamRefused("base_url must not carry credentials; use api_key", param="base_url")
        port = parts.port_or_known_default
        if port is None:  # http and https have default ports: only a scheme checked above gets here
            raise UpstreamRefused("base_url has no port", param="base_url")
        return Origin(parts.scheme, host.lower(), port)

    def _host_allowlisted(self, host: str) -> bool:
        return host in self._hosts or any(host.endswith(suffix) for suffix in self._suffixes)

    def check_ip(self, ip: IPAddress, host: str) -> None:
        if self.allow_private or any(ip in net for net in self._networks):
            return
        reason = _forbidden_reason(ip)
        if reason is not None:
            shown = host if str(ip) == host.strip("[]") else f"{host} ({ip})"
            raise UpstreamRefused(f"upstream address {shown} is {reason}; {_HOW_TO_ALLOW}", param="base_url")

    async def resolve(self, origin: Origin) -> str | None:
        """The checked address to pin connections to, or None when no pinning is needed."""
        if self.allow_private:
            return None
        literal = literal_ip(origin.host)
        if literal is not None:
            self.check_ip(literal, origin.host)
            return None
        if self._host_allowlisted(origin.host):
            return None
        try:
            addresses = await self.lookup(origin.host, origin.port)
        except OSError as exc:
            raise UpstreamRefused(
                f"upstream host {origin.host} does not resolve: {exc.strerror or exc}",
                param="base_url",
                code="upstream_unresolvable",
            ) from None
        for address in addresses:  # every answer must pass, not just the first
            self.check_ip(address, origin.host)
        return str(addresses[0])

    async def lookup(self, host: str, port: int) -> list[IPAddress]:
        """The DNS answer for ``host`` (tests substitute a resolver that changes its mind)."""
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]

    async def check_url(self, url: str) -> Origin:
        origin = self.parse(url)
        await self.resolve(origin)
        return origin
