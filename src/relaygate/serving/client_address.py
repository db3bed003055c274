"""The client's address: the TCP peer, or what a trusted proxy says in ``X-Forwarded-For``.

Trusted proxies are the addresses and networks in ``FORWARDED_ALLOW_IPS`` (comma
separated, ``*`` for any; default ``127.0.0.1``), the variable uvicorn reads for the same
purpose, with its rule: walk ``X-Forwarded-For`` from the right and take the first
address that is not a trusted proxy. uvicorn's middleware applies it to the control plane
(``app.assemble``); the router's scope keeps the TCP peer, so this module applies it where
the router needs an address (only when counting failed authentications: the hot path
never pays for it). Applied to a scope already rewritten, it gives the same answer.
"""

from __future__ import annotations

import functools
import ipaddress
import os

from relaygate.types import Scope

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, spec: str) -> None:
        entries = [entry.strip() for entry in spec.split(",") if entry.strip()]
        self.everyone = "*" in entries
        self._networks: list[_Network] = []
        self._names: set[str] = set()
        for entry in entries:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._names.add(entry)  # a unix socket path or a host name, matched as text

    def trusts(self, host: str) -> bool:
        if self.everyone or host in self._names:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


@functools.cache
def trusted_proxies() -> TrustedProxies:
    return TrustedProxies(os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    if not client:
        return "unknown"
    forwarded = None
    for key, value in scope.get("headers", ()):
        if key == b"x-forwarded-for":
            forwarded = value.decode("latin-1")  # the last one, as uvicorn reads it
    return trusted_proxies().client(str(client[0]), forwarded)
