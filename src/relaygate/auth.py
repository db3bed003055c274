"""Who is calling: a bearer key becomes a ``Principal``, on both planes, with a brake on guessing.

``authenticate`` costs a known key one SHA-256 and one dict lookup. A key the in-memory
catalog does not know (made a moment ago by another process) is looked up in the store
once (``catalog.find_principal``, negative-cached), and only for a client the brake does
not hold back now, so the brake also bounds what guessing costs the store.

The brake (``AuthThrottle``) counts only failures, so a valid key never touches it and
pays nothing. A client that sends more than ``limit`` wrong keys within ``window``
seconds gets 429 (with ``Retry-After``) instead of 401 until its window ends. The client
is the peer address, or the ``X-Forwarded-For`` of a trusted proxy
(``FORWARDED_ALLOW_IPS``, see ``serving/client_address.py``). Counts are per process, in
memory and bounded; with N processes a client may try N times the limit. Our keys carry
256 random bits, so this is a brake on noise and credential stuffing, not what keeps keys
unguessable.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from relaygate.asgi import header
from relaygate.catalog import Catalog, Principal
from relaygate.errors import AuthenticationFailed, RateLimited
from relaygate.limits.fixed_window import FixedWindowCounter
from relaygate.serving.client_address import client_address
from relaygate.types import Scope


class AuthThrottle:
    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._failures = FixedWindowCounter(window, max_keys=max_clients, clock=clock)

    def check(self, scope: Scope) -> None:
        """Raise 429, counting nothing, when one more failure would put the client over its limit."""
        if self.limit <= 0:
            return
        client = client_address(scope)
        if self._failures.count(client) >= self.limit:
            raise self._braked(client)

    def failed(self, scope: Scope) -> None:
        """Count one failed authentication; raise 429 once the client is over its limit."""
        if self.limit <= 0:
            return
        client = client_address(scope)
        if self._failures.add(client) > self.limit:
            raise self._braked(client)

    def _braked(self, client: str) -> RateLimited:
        wait = self._failures.retry_after(client)
        return RateLimited(
            f"Too many failed authentications from your address; try again in {wait} s.",
            code="too_many_failed_authentications",
            headers={"Retry-After": str(wait)},
        )

    def __len__(self) -> int:
        return len(self._failures)


# The scope key of a call relaygate makes to itself for a principal (an evaluator's model
# call, ``evaluators/router_models.py``). ASGI servers build a scope from the request's
# head, never with this key, so no client can set it.
IN_PROCESS_PRINCIPAL = "relaygate.in_process_principal"


async def authenticate(catalog: Catalog, scope: Scope, throttle: AuthThrottle | None = None) -> Principal:
    """The caller's principal; 401 for a missing or unknown key, 429 while the client is braked."""
    in_process: Principal | None = scope.get(IN_PROCESS_PRINCIPAL)
    if in_process is not None:
        return in_process
    value = header(scope, b"authorization")
    if not value:
        raise AuthenticationFailed(
            "You didn't provide an API key. Send your relaygate key in the Authorization header "
            "(Authorization: Bearer YOUR_KEY).",
            code="missing_api_key",
        )
    scheme, _, token = value.partition(b" ")
    key_hash = None
    if scheme.lower() == b"bearer" and token.strip():
        key_hash = hashlib.sha256(token.strip()).hexdigest()
        principal = catalog.principal(key_hash)
        if principal is not None:
            if principal.expires_at is not None and time.time() >= principal.expires_at:
                raise _expired(principal.expires_at)
            return principal
    if throttle is not None:
        throttle.check(scope)
    principal = await catalog.find_principal(key_hash) if key_hash is not None else None
    if principal is None:
        if throttle is not None:
            throttle.failed(scope)
        raise AuthenticationFailed("Incorrect API key provided. Use a relaygate key of this server.")
    if principal.expires_at is not None and time.time() >= principal.expires_at:
        raise _expired(principal.expires_at)
    return principal


def _expired(expires_at: float) -> AuthenticationFailed:
    """A known key past its expiry: said as such (it is not a guess, so the brake does not count it)."""
    when = datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return AuthenticationFailed(
        f"This API key expired at {when}. Ask an admin of the workspace for a new key or a later expiry.",
        code="api_key_expired",
    )
