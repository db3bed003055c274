"""The `relaygate` command: init, keys, bootstrap, and keys made while the server runs."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.server import RelaygateServer, make_server


def run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "RELAYGATE_HOME": str(home), **env}
    return subprocess.run(
        [sys.executable, "-m", "relaygate", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_init_prints_the_admin_key_alone(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "--workspace", "acme")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("rg-")
    assert "\n" not in key
    assert len(key) > 40
    assert (tmp_path / "relaygate.db").exists()
    again = run(tmp_path, "init", "--workspace", "acme")
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_keys_create_and_json(tmp_path: Path) -> None:
    run(tmp_path, "init", "--workspace", "acme")
    plain = run(tmp_path, "keys", "create", "--workspace", "acme", "--role", "router", "--name", "svc")
    assert plain.returncode == 0
    assert plain.stdout.strip().startswith("rg-")
    as_json = json.loads(
        run(tmp_path, "keys", "create", "--workspace", "acme", "--role", "admin", "--json").stdout
    )
    assert as_json["role"] == "admin"
    assert as_json["key"].startswith("rg-")
    assert as_json["workspace"] == "acme"
    missing = run(tmp_path, "keys", "create", "--workspace", "nope")
    assert missing.returncode == 1
    assert "relaygate init --workspace nope" in missing.stderr
    listing = run(tmp_path, "keys", "list", "--workspace", "acme")
    assert listing.stdout.count("\n") == 3
    assert as_json["key"] not in listing.stdout


def test_master_key_file_is_private(tmp_path: Path) -> None:
    run(tmp_path, "init", "--workspace", "acme")
    mode = stat.S_IMODE((tmp_path / "master.key").stat().st_mode)
    assert mode == 0o600


def test_keys_are_stored_hashed(tmp_path: Path) -> None:
    key = run(tmp_path, "init", "--workspace", "acme").stdout.strip()
    assert key.encode() not in (tmp_path / "relaygate.db").read_bytes()


def test_short_bootstrap_key_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "--workspace", "x", RELAYGATE_BOOTSTRAP_KEY="short")
    assert result.returncode == 1
    assert "at least 20" in result.stderr


def test_cli_keys_work_on_a_running_server_at_once(relaygate: RelaygateServer) -> None:
    workspace = relaygate.new_workspace()  # waits until the server accepts the new admin key
    key = relaygate.cli("keys", "create", "--workspace", workspace.name, "--role", "router").stdout.strip()
    relaygate.wait_for_key(key, timeout=2.0)


def test_bootstrap_key_makes_default_workspace(tmp_path: Path) -> None:
    server = make_server(tmp_path / "boot")
    server.start()
    try:
        response = server.api("GET", "/v2/api-keys", key=server.bootstrap_key)
        assert response.status_code == 200
        keys: list[Any] = response.json()["data"]
        assert [k["role"] for k in keys] == ["admin"]
    finally:
        server.stop()
    server.start()  # idempotent across restarts
    try:
        assert len(server.api("GET", "/v2/api-keys", key=server.bootstrap_key).json()["data"]) == 1
    finally:
        server.stop()
