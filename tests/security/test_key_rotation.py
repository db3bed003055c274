"""`relaygate rotate-master-key`: every stored key re-encrypted, running servers never stop routing."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from evaluators.scorer import Scorer
from relaygate.crypto import MasterKey
from security.helpers import ServerFactory

from support.server import RelaygateServer, Workspace
from upstream import FakeUpstream


def _key_ids(server: RelaygateServer) -> set[str]:
    with sqlite3.connect(server.home / "relaygate.db") as db:
        return {row[0] for row in db.execute("SELECT api_key_key_id FROM models")}


def _header_key_ids(server: RelaygateServer) -> set[str]:
    with sqlite3.connect(server.home / "relaygate.db") as db:
        contents = [json.loads(row[0]) for row in db.execute("SELECT content FROM evaluator_versions")]
    return {value["key_id"] for content in contents for value in content["config"]["headers"].values()}


def _scored_with(workspace: Workspace, evaluator_id: str, scorer: Scorer) -> str:
    sample = {"input": "q", "output": "four", "expected": "four"}
    result = workspace.api("POST", f"/v2/evaluators/{evaluator_id}/test", json=sample)
    assert result.status_code == 200, result.text
    return scorer.received[-1].headers["authorization"]


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
    assert "re-encrypted 3 stored secret(s)" in result.stdout
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
    scorer = Scorer().start()
    definition = {"type": "http_eval", "key": "remote", "url": f"{scorer.url}/score",
                  "headers": {"Authorization": "Bearer scorer-token-5678"}}  # fmt: skip
    evaluator = workspace.api("POST", "/v2/evaluators", json=definition).json()["_id"]
    assert b"scorer-token" not in (server.home / "relaygate.db").read_bytes(), "sealed at rest"
    assert _header_key_ids(server) == {MasterKey.from_text(old).key_id}

    # Step 1: servers restart with the new key current and the old one accepted for reading.
    server.stop()
    server.env.update(RELAYGATE_MASTER_KEY=new, RELAYGATE_MASTER_KEY_PREVIOUS=old)
    server.start()
    assert _chat(workspace, model)
    # Step 2: the rotation re-encrypts; step 3: the old key goes away.
    result = server.cli("rotate-master-key")
    assert "re-encrypted 1 stored secret(s)" in result.stdout
    assert "re-encrypted the header values of 1 http_eval evaluator version(s)" in result.stdout
    assert _key_ids(server) == _header_key_ids(server) == {MasterKey.from_text(new).key_id}
    server.stop()
    del server.env["RELAYGATE_MASTER_KEY_PREVIOUS"]
    server.start()
    assert _chat(workspace, model)
    try:
        assert _scored_with(workspace, evaluator, scorer) == "Bearer scorer-token-5678"
    finally:
        scorer.stop()


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
