"""Two relaygate processes sharing one PostgreSQL database and one Redis.

Both services are reached through a ``TcpProxy`` each, so a test can take PostgreSQL or
Redis away from the relaygate processes (and give it back) without touching the
machine's services, which other test runs may be using at the same time.
"""

from __future__ import annotations

import functools
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy.engine import make_url

from relaygate.crypto import MasterKey

from . import databases
from .server import RelaygateServer, make_server
from .tcp_proxy import TcpProxy

POSTGRES_URL = databases.configured_url() or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_ADDRESS = ("127.0.0.1", 6379)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Cluster:
    a: RelaygateServer
    b: RelaygateServer
    postgres: TcpProxy
    redis: TcpProxy
    database_url: str  # direct, not through the proxy: for the test's own queries

    @property
    def servers(self) -> tuple[RelaygateServer, RelaygateServer]:
        return self.a, self.b


def each_within(
    seconds: float, servers: Iterable[RelaygateServer], check: Callable[[RelaygateServer], bool]
) -> None:
    """``within`` for each server in turn."""
    for server in servers:
        within(seconds, functools.partial(check, server))


def within(seconds: float, check: Callable[[], bool], interval: float = 0.02) -> float:
    """Wait until ``check()`` holds; return how long it took, fail after ``seconds``."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not true within {seconds} s")
        time.sleep(interval)


@contextmanager
def running_cluster(home: Path, **env: str) -> Iterator[Cluster]:
    pg_host = make_url(POSTGRES_URL).host or "127.0.0.1"
    pg_port = make_url(POSTGRES_URL).port or 5432
    for name, (host, port) in {"PostgreSQL": (pg_host, pg_port), "Redis": REDIS_ADDRESS}.items():
        if not _reachable(host, port):
            pytest.skip(f"{name} is not running on {host}:{port} (scripts/test starts it)")
    database_url = databases.create_database(POSTGRES_URL)
    prefix = f"rgtest-{secrets.token_hex(4)}:"
    with TcpProxy(pg_host, pg_port) as postgres, TcpProxy(*REDIS_ADDRESS) as redis:
        shared = {
            "RELAYGATE_DATABASE_URL": make_url(database_url)
            .set(host="127.0.0.1", port=postgres.port)
            .render_as_string(hide_password=False),
            "RELAYGATE_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
            # Tests on this Redis run side by side: each cluster keeps to its own keys.
            "RELAYGATE_REDIS_PREFIX": prefix,
            # Both processes must open the upstream keys the other one sealed.
            "RELAYGATE_MASTER_KEY": MasterKey.generate_text(),
            "RELAYGATE_LOG_LEVEL": "info",
            # The tests poll with keys that were just revoked, many times a second from one
            # address: keep the failed-authentication throttle (429) out of the way.
            "RELAYGATE_AUTH_FAILURE_LIMIT": "100000",
            **env,
        }
        a = make_server(home / "a", **shared)
        b = make_server(home / "b", **shared)
        a.cli("migrate")
        servers = []
        try:
            for server in (a, b):
                servers.append(server.start())
            yield Cluster(a, b, postgres, redis, database_url)
        finally:
            for server in servers:
                server.stop()
            _forget_redis_keys(prefix)


def _forget_redis_keys(prefix: str) -> None:
    client = redis.Redis(*REDIS_ADDRESS)
    try:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
    finally:
        client.close()
