"""Starting the bench's servers (upstream, pass-throughs, relaygate), registering the upstream in
relaygate, and checking each route once before anything is measured."""

from __future__ import annotations

import json
import os
import secrets
import string
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .load import Target
from .processes import BenchError, Child, Children, free_port, wait_http_ok, wait_port_open

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM_KEY = "sk-bench"


@dataclass
class Relaygate:
    base_url: str
    admin_key: str
    pid: int | None
    child: Child | None


def _http_json(method: str, url: str, key: str, body: Any) -> tuple[int, str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method)
    request.add_header("content-type", "application/json")
    request.add_header("authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(errors="replace")


# --- set-up ------------------------------------------------------------------------------------------


def start_upstream(children: Children) -> tuple[int, Child]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.upstream", "--port", str(port), "--api-key", UPSTREAM_KEY]
    child = children.start("upstream", argv, cwd=ROOT)
    wait_port_open(port, child)
    return port, child


def start_passthrough(children: Children, upstream_port: int, stock: bool) -> tuple[int, Child]:
    """The bare pass-through, on relaygate's protocol and client settings or (`stock`) on none."""
    port = free_port()
    upstream = f"http://127.0.0.1:{upstream_port}"
    argv = [sys.executable, "-m", "bench.passthrough", "--port", str(port), "--upstream", upstream]
    argv += ["--api-key", UPSTREAM_KEY, *(["--stock"] if stock else [])]
    child = children.start("passthrough-stock" if stock else "passthrough", argv, cwd=ROOT)
    wait_port_open(port, child)
    return port, child


def _relaygate_argv(port: int) -> list[str]:
    script = Path(sys.executable).with_name("relaygate")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "relaygate"]
    return [*command, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]


def start_relaygate(
    children: Children, home: Path, name: str = "relaygate", extra_env: dict[str, str] | None = None
) -> Relaygate:
    port = free_port()
    key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    env = {
        "RELAYGATE_HOME": str(home),
        "RELAYGATE_BOOTSTRAP_KEY": key,
        "RELAYGATE_ALLOW_PRIVATE_UPSTREAMS": "1",
        **(extra_env or {}),
    }
    home.mkdir(exist_ok=True)
    child = children.start(name, _relaygate_argv(port), env=env, cwd=home)
    base = f"http://127.0.0.1:{port}"
    wait_http_ok(f"{base}/health", child, timeout=60)
    return Relaygate(base, key, child.pid, child)


def existing_relaygate(url: str, key: str | None, pid: int | None) -> Relaygate:
    key = key or os.environ.get("RELAYGATE_KEY")
    if not key:
        raise BenchError("--relaygate-url needs --relaygate-key (or $RELAYGATE_KEY): an admin key")
    Target(url, "", b"").host_port_path  # noqa: B018 - refuses anything but 127.0.0.1
    base = url.rstrip("/")
    wait_http_ok(f"{base}/health", None, timeout=10)
    return Relaygate(base, key, pid, None)


def register_model(relaygate: Relaygate, upstream_port: int, model_id: str) -> str:
    """Registers the upstream as an OpenAI-like chat model; returns its router id."""
    body = {
        "model_type": "chat",
        "base_url": f"http://127.0.0.1:{upstream_port}/v1",
        "api_key": UPSTREAM_KEY,
        "display_name": "Bench",
        "model_id": model_id,
        "region": "us",
        "provider": "bench",
    }
    url = f"{relaygate.base_url}/v2/models/openai-like"
    status, text = _http_json("POST", url, relaygate.admin_key, body)
    if not 200 <= status < 300:
        shown = {**body, "api_key": "sk-bench"}
        raise BenchError(f"POST {url} {json.dumps(shown)}\n-> {status} {text[:2000]}")
    return f"bench/{model_id}"


def check_route(target: Target, what: str) -> None:
    """One request before measuring, so a broken route fails loudly instead of benchmarking errors."""
    status, text = _post_raw(target)
    if status != 200 or '"choices"' not in text:
        raise BenchError(f"{what}: POST {target.url} {target.body.decode()}\n-> {status} {text[:2000]}")


def _post_raw(target: Target) -> tuple[int, str]:
    request = urllib.request.Request(target.url, data=target.body, method="POST")
    request.add_header("content-type", "application/json")
    request.add_header("authorization", target.authorization)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(errors="replace")
