"""The `relaygate` command: init, keys, bootstrap, and keys made while the server runs."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from relaygate import cli
from relaygate.settings import Settings
from relaygate.store import data_folder

from support.server import RelaygateServer, Workspace, make_server

ServerFactory = Callable[..., RelaygateServer]
KEY_COLUMNS = ["ID", "PREFIX", "ROLE", "STATE", "NAME"]
# A PATH without the venv's folder, as after `scripts/start`: `relaygate` alone is not found.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def run(
    home: Path | None, *args: str, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it; ``home`` None: no RELAYGATE_HOME, the data folder is ./relaygate-data."""
    full_env = {**os.environ, **env}
    full_env.pop("RELAYGATE_HOME", None)
    if home is not None:
        full_env["RELAYGATE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "relaygate", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


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
    assert listing.stdout.count("\n") == 4, "a header and three keys"
    assert as_json["key"] not in listing.stdout


def test_init_makes_the_data_folder_private(tmp_path: Path) -> None:
    home = tmp_path / "data"
    assert run(home, "init", "--workspace", "acme").returncode == 0
    assert mode(home) == 0o700
    assert mode(home / "master.key") == 0o600
    assert mode(home / "relaygate.db") == 0o600


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


@pytest.mark.parametrize(
    "command",
    [
        ("keys", "list", "--workspace", "acme"),
        ("keys", "create", "--workspace", "acme"),
        ("keys", "revoke", "--workspace", "acme", "some-id"),
        ("models", "list", "--workspace", "acme"),
        ("rotate-master-key",),
        ("migrate",),
    ],
)
def test_a_command_from_another_folder_refuses_to_make_a_store(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = run(None, *command, cwd=tmp_path)
    assert result.returncode == 1
    assert f"relaygate: data folder {tmp_path / 'relaygate-data'}\n" in result.stderr
    assert "does not exist" in result.stderr
    assert "RELAYGATE_HOME" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [], "nothing created"


def test_an_empty_data_folder_is_refused_too(tmp_path: Path) -> None:
    result = run(tmp_path, "keys", "list", "--workspace", "acme")
    assert result.returncode == 1
    assert f"the data folder {tmp_path} has no database" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_every_command_names_its_data_folder(tmp_path: Path) -> None:
    home = tmp_path / "data"
    for command in (("init", "--workspace", "acme"), ("keys", "list", "--workspace", "acme")):
        result = run(home, *command)
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith(f"relaygate: data folder {home}\n")


def test_another_database_is_named_without_its_password(tmp_path: Path) -> None:
    env = {
        "RELAYGATE_HOME": str(tmp_path),
        "RELAYGATE_DATABASE_URL": "postgresql+asyncpg://ops:s3cret@db:5432/rg",
    }
    settings = Settings.from_env(env)
    line = data_folder.describe(settings)
    assert line == f"data folder {tmp_path}, database postgresql+asyncpg://ops:***@db:5432/rg"
    assert data_folder.missing_store(settings) is None, "PostgreSQL: the CLI cannot tell an empty one apart"


def test_key_names_follow_the_apis_rule(tmp_path: Path, workspace: Workspace) -> None:
    from_api = workspace.api("POST", "/v2/api-keys", json={"role": "router", "name": ""})
    assert from_api.status_code == 400
    rule = "String should have at least 1 character"
    assert rule in from_api.json()["error"]["message"]
    result = run(tmp_path, "init", "--workspace", "acme", "--name", "")
    assert result.returncode == 2
    assert f"argument --name: {rule}" in result.stderr
    assert list(tmp_path.iterdir()) == [], "refused before any store was made"


@pytest.mark.parametrize("name", ["", " ", "two words", "_hidden", "w" * 65, "a/b", "ws\n"])
def test_workspace_names_are_slugs(tmp_path: Path, name: str) -> None:
    result = run(tmp_path, "init", "--workspace", name)
    assert result.returncode == 2
    assert "invalid workspace name" in result.stderr
    assert "1-64 letters, digits" in result.stderr
    assert list(tmp_path.iterdir()) == [], "refused before any store was made"


@pytest.mark.parametrize(
    ("group", "subcommands"),
    [
        (("keys",), ["create a key and print it", "list a workspace's keys", "revoke a key"]),
        (("models",), ["list a workspace's models"]),
        ((), ["start the server", "create a workspace and print its first admin key", "manage API keys"]),
    ],
)
def test_a_command_group_alone_prints_its_subcommands(
    tmp_path: Path, group: tuple[str, ...], subcommands: list[str]
) -> None:
    result = run(tmp_path, *group)
    assert result.returncode == 2, "like any other incomplete command line"
    for text in subcommands:
        assert text in result.stderr
    assert list(tmp_path.iterdir()) == []


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_option_of_every_command_has_a_help_text() -> None:
    missing = [
        f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
        for parser in _parsers(cli._parser())
        for action in parser._actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []


def test_listings_have_a_header_row(tmp_path: Path) -> None:
    run(tmp_path, "init", "--workspace", "acme")
    keys = run(tmp_path, "keys", "list", "--workspace", "acme").stdout.splitlines()
    assert keys[0].split() == KEY_COLUMNS
    assert keys[1].split()[2:] == ["admin", "active", "admin"]
    models = run(tmp_path, "models", "list", "--workspace", "acme").stdout.splitlines()
    assert models == ["ID  ROUTER ID  TYPE  STATE  BASE URL"]


def test_looser_modes_are_tightened_at_start_and_reported(tmp_path: Path) -> None:
    run(tmp_path, "init", "--workspace", "acme")
    for path, loose in (
        (tmp_path, 0o755),
        (tmp_path / "relaygate.db", 0o644),
        (tmp_path / "master.key", 0o644),
    ):
        path.chmod(loose)
    result = run(tmp_path, "keys", "list", "--workspace", "acme")
    assert result.returncode == 0, result.stderr
    assert f"tightened the permissions of {tmp_path / 'relaygate.db'} from 0644 to 0600" in result.stderr
    assert (mode(tmp_path), mode(tmp_path / "relaygate.db"), mode(tmp_path / "master.key")) == (
        0o700,
        0o600,
        0o600,
    )


def test_serve_keeps_its_data_private_and_its_banner_command_works_from_anywhere(
    relaygate_factory: ServerFactory, tmp_path: Path
) -> None:
    home = tmp_path / "server0"  # the factory's first server's home, made 0755 before it starts
    server = relaygate_factory(
        RELAYGATE_BOOTSTRAP_KEY="",
        RELAYGATE_DATABASE_URL=f"sqlite+aiosqlite:///{home / 'relaygate.db'}",
        PATH=SYSTEM_PATH,
    )
    assert server.home == home
    assert mode(home) == 0o700
    for name in ("relaygate.db", "relaygate.db-wal", "relaygate.db-shm", "master.key"):
        assert mode(home / name) == 0o600, name

    hint = next(line for line in server.log().splitlines() if line.startswith("  RELAYGATE_HOME="))
    assignment, *command = shlex.split(hint)
    assert assignment == f"RELAYGATE_HOME={home}"
    assert command[0].startswith("/"), "an absolute path, not a name PATH may lack"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**server.env, "RELAYGATE_HOME": assignment.partition("=")[2]}
    made = subprocess.run(
        command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert made.returncode == 0, made.stderr
    server.wait_for_key(made.stdout.strip())
