"""`relaygate rotate-master-key`: every stored key re-encrypted, running servers never stop routing."""

from __future__ import annotations

import sqlite3
from typing import Any

from relaygate.crypto import MasterKey
from security.helpers import ServerFactory

from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream


def _key_ids(server: RelaygateServer) -> set[str]:
    with sqlite3.connect(server.home / "relaygate.db") as db:
        return {row[0] for row in db.execute("SELECT api_key_key_id FROM models")}


def _chat(workspace: Workspace, model: dict[str, Any]) -> str | None:
    answer = workspace.client().chat.completions.create(
        model=model["router_id"], messages=[{"role": "user", "content": "hi"}]
    )
    return answer.choices[0].message.content


def test_file_key_rotation_under_a_running_server(
    relaygate_factory: ServerFactory, upstream: FakeUpstream
) -> None:
    server = relaygate_factory()
    workspace = server.new_workspace()
    models = [workspace.add_model(upstream, "gpt-test", provider=f"p{index}") for index in range(3)]
    old_ids = _key_ids(server)
    old_key_text = (server.home / "master.key").read_text()

    result = server.cli("rotate-master-key", "--grace", "0.5")
    assert "re-encrypted 3 upstream key(s)" in result.stdout
    assert old_key_text.strip() not in result.stdout + result.stderr  # the CLI never prints a key
    new_ids = _key_ids(server)
    assert len(new_ids) == 1
    assert not new_ids & old_ids
    assert (server.home / "master.key").stat().st_mode & 0o777 == 0o600
    assert not (server.home / "master.key.previous").exists()

    # The running server follows: old models route, new ones are sealed with the new key.
    for model in models:
        assert _chat(workspace, model)
    workspace.add_model(upstream, "gpt-test", provider="after")
    assert _key_ids(server) == new_ids

    server.stop()
    server.start()  # a restart with only the new key reads everything
    assert _chat(workspace, models[0])
    assert len(workspace.api("GET", "/v3/router/models").json()["data"]) == 4


def test_environment_key_rotation(relaygate_factory: ServerFactory, upstream: FakeUpstream) -> None:
    old, new = MasterKey.generate_text(), MasterKey.generate_text()
    server = relaygate_factory(RELAYGATE_MASTER_KEY=old)
    workspace = server.new_workspace()
    model = workspace.add_model(upstream, "gpt-test")

    # Step 1: servers restart with the new key current and the old one accepted for reading.
    server.stop()
    server.env.update(RELAYGATE_MASTER_KEY=new, RELAYGATE_MASTER_KEY_PREVIOUS=old)
    server.start()
    assert _chat(workspace, model)
    # Step 2: the rotation re-encrypts; step 3: the old key goes away.
    result = server.cli("rotate-master-key")
    assert "re-encrypted 1 upstream key(s)" in result.stdout
    assert _key_ids(server) == {MasterKey.from_text(new).key_id}
    server.stop()
    del server.env["RELAYGATE_MASTER_KEY_PREVIOUS"]
    server.start()
    assert _chat(workspace, model)


def test_a_row_under_an_unknown_key_stops_the_rotation_cleanly(
    relaygate_factory: ServerFactory, upstream: FakeUpstream
) -> None:
    old, new = MasterKey.generate_text(), MasterKey.generate_text()
    server = relaygate_factory(RELAYGATE_MASTER_KEY=old)
    server.new_workspace().add_model(upstream, "gpt-test")
    server.env["RELAYGATE_MASTER_KEY"] = new  # the old key forgotten: rows cannot be opened
    result = server.cli("rotate-master-key", check=False)
    assert result.returncode == 1
    assert "RELAYGATE_MASTER_KEY_PREVIOUS" in result.stderr
    assert old not in result.stderr
    assert new not in result.stderr
    assert "Traceback" not in result.stderr
