"""Start relaygate as a real server process on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openai

from relaygate.settings import Settings

from . import databases, store

T = TypeVar("T")

BASE_ENV = {
    "RELAYGATE_ALLOW_PRIVATE_UPSTREAMS": "1",  # the tests' upstreams live on loopback
    "RELAYGATE_CATALOG_POLL_INTERVAL": "0.2",
    "RELAYGATE_USAGE_FLUSH_INTERVAL": "0.2",
    "RELAYGATE_LOG_LEVEL": "warning",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Workspace:
    name: str
    admin_key: str
    server: RelaygateServer

    def api(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.server.api(method, path, key=key or self.admin_key, **kwargs)

    def client(self, key: str | None = None, **kwargs: Any) -> openai.OpenAI:
        return self.server.client(key or self.admin_key, **kwargs)

    def add_model(self, upstream: Any, model_id: str = "gpt-test", **fields: Any) -> dict[str, Any]:
        body = {
            "model_type": "chat",
            "base_url": upstream.url,
            "api_key": upstream.api_key or "unused",
            "display_name": f"Test {model_id}",
            "model_id": model_id,
            "region": "us",
            "provider": "fake",
            **fields,
        }
        response = self.api("POST", "/v2/models/openai-like", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def new_key(self, role: str = "router", name: str = "test") -> str:
        response = self.api("POST", "/v2/api-keys", json={"role": role, "name": name})
        assert response.status_code == 200, response.text
        return str(response.json()["key"])


@dataclass
class RelaygateServer:
    home: Path
    port: int
    env: dict[str, str]
    bootstrap_key: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.home / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_key(self) -> str:
        return self.bootstrap_key

    def start(self, timeout: float = 60.0, extra_args: tuple[str, ...] = ()) -> RelaygateServer:
        # 60 s: scripts/test starts many servers at once, each importing under coverage.
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "relaygate", "serve", "--port", str(self.port), *extra_args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"relaygate exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"relaygate did not become healthy in {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def api(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["authorization"] = f"Bearer {key}"
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def client(self, key: str, **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("max_retries", 0)
        return openai.OpenAI(base_url=f"{self.url}/v3/router", api_key=key, **kwargs)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "relaygate", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"relaygate {' '.join(args)} failed: {result.stderr}")
        return result

    def new_workspace(self, prefix: str = "ws") -> Workspace:
        """A workspace with an admin key, written to the server's store by this process (as
        ``relaygate init`` does; tests/test_cli.py covers the command itself)."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        key = _run_in_own_loop(store.add_workspace(Settings.from_env(self.env), name))
        self.wait_for_key(key)
        return Workspace(name, key, self)

    def wait_for_key(self, key: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api("GET", "/v3/router/models", key=key).status_code == 200:
                return
            time.sleep(0.05)
        raise AssertionError("a key made by the CLI was not accepted by the running server")


def _run_in_own_loop(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: the caller's thread may have a loop running
    (Playwright's sync API keeps one in the Studio's tests)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


def make_server(home: Path, **env_overrides: str) -> RelaygateServer:
    bootstrap = "rg-test-bootstrap-" + secrets.token_urlsafe(16)
    env = {**os.environ, **BASE_ENV, "RELAYGATE_HOME": str(home), "RELAYGATE_BOOTSTRAP_KEY": bootstrap}
    env.update(env_overrides)
    env = {key: value for key, value in env.items() if value != ""}
    server = RelaygateServer(home=home, port=free_port(), env=env, bootstrap_key=bootstrap)
    base_url = databases.configured_url()
    if base_url and "RELAYGATE_DATABASE_URL" not in env_overrides:
        # The PostgreSQL run of the suite: a database of its own, migrated like an operator would.
        env["RELAYGATE_DATABASE_URL"] = databases.create_database(base_url)
        server.cli("migrate")
    return server
