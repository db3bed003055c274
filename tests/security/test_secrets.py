"""No secret in any output: distinctive secrets go through every path, failing ones
included, and every response, log line, usage row and metric is searched for them."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx
import pytest

from relaygate.crypto import MasterKey

from support.server import RelaygateServer, Workspace, make_server
from support.usage_events import usage_events
from upstream import FakeUpstream
from upstream.faults import Fault

UPSTREAM_KEY = "sk-up-SECRETUPSTREAM" + secrets.token_hex(8)
WRONG_UPSTREAM_KEY = "sk-up-WRONGUPSTREAM" + secrets.token_hex(8)
WRONG_OUR_KEY = "rg-WRONGOURKEY" + secrets.token_hex(8)
MASTER_KEY = MasterKey.generate_text()
CHAT = "/v3/router/chat/completions"


@pytest.fixture(scope="module")
def upstream_with_key() -> Iterator[FakeUpstream]:
    with FakeUpstream(api_key=UPSTREAM_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    home = Path(tmp_path_factory.mktemp("secrets"))
    started = make_server(home, RELAYGATE_MASTER_KEY=MASTER_KEY, RELAYGATE_LOG_LEVEL="debug").start()
    yield started
    started.stop()


class Outputs:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def keep(self, response: httpx.Response) -> httpx.Response:
        self.texts.append(response.text)
        self.texts.extend(f"{name}: {value}" for name, value in response.headers.items())
        return response


def _model_body(upstream: FakeUpstream, api_key: str, **fields: object) -> dict[str, object]:
    return {
        "model_type": "chat", "base_url": upstream.url, "api_key": api_key, "display_name": "s",
        "model_id": "gpt-test", "region": "us", "provider": "fake", **fields,
    }  # fmt: skip


def _exercise(ws: Workspace, upstream: FakeUpstream, router_key: str, out: Outputs) -> None:
    create = out.keep(ws.api("POST", "/v2/models/openai-like", json=_model_body(upstream, UPSTREAM_KEY)))
    assert create.status_code == 200, create.text
    model_id, router_id = create.json()["id"], create.json()["router_id"]
    failing = [
        ("POST", "/v2/models/openai-like", _model_body(upstream, WRONG_UPSTREAM_KEY, provider="wrong")),
        ("POST", "/v2/models/openai-like", _model_body(upstream, UPSTREAM_KEY, model_type="nope")),
        ("POST", "/v2/models/openai-like", _model_body(upstream, UPSTREAM_KEY, base_url="http://[::1")),
        ("PATCH", f"/v2/models/openai-like/{model_id}", _model_body(upstream, WRONG_UPSTREAM_KEY)),
        ("PATCH", f"/v2/models/openai-like/{model_id}", {"api_key": UPSTREAM_KEY, "base_url": 5}),
    ]
    for method, path, body in failing:
        assert out.keep(ws.api(method, path, json=body)).status_code >= 400
    for method, path in (("GET", "/v2/models"), ("GET", f"/v2/models/{model_id}"), ("GET", "/v2/api-keys")):
        assert out.keep(ws.api(method, path)).status_code == 200
    out.keep(ws.api("POST", f"/v2/models/{model_id}/validate"))
    chat = {"model": router_id, "messages": [{"role": "user", "content": "hi"}]}
    assert out.keep(ws.api("POST", CHAT, key=router_key, json=chat)).status_code == 200
    assert out.keep(ws.api("POST", CHAT, key=router_key, json={**chat, "stream": True})).status_code == 200
    echo = {"error": {"message": f"Incorrect API key provided: {UPSTREAM_KEY}", "type": "x", "code": None}}
    upstream.script(
        "/chat/completions", [Fault(status=401, body=echo), Fault(status=500), Fault(disconnect_after=0)]
    )
    for _ in range(3):
        assert out.keep(ws.api("POST", CHAT, key=router_key, json=chat)).status_code >= 400
    for key in (WRONG_OUR_KEY, UPSTREAM_KEY, MASTER_KEY):
        for path in ("/v3/router/models", "/v2/models"):
            assert out.keep(ws.api("GET", path, key=key)).status_code == 401
    basic = {"authorization": f"Basic {WRONG_OUR_KEY}"}
    assert out.keep(ws.server.api("GET", "/v3/router/models", headers=basic)).status_code == 401
    assert (
        out.keep(ws.api("POST", CHAT, key=router_key, content=b"{" + UPSTREAM_KEY.encode())).status_code
        == 400
    )
    out.keep(ws.api("GET", "/metrics"))
    out.keep(httpx.get(f"{ws.server.url}/health"))


def test_no_secret_in_any_output(server: RelaygateServer, upstream_with_key: FakeUpstream) -> None:
    ws = server.new_workspace()
    out = Outputs()
    created = ws.api("POST", "/v2/api-keys", json={"role": "router", "name": "svc"})
    router_key = created.json()["key"]  # this answer shows the new key once, by design
    server.wait_for_key(router_key)
    _exercise(ws, upstream_with_key, router_key, out)
    usage_events(ws, 5)  # the writer stores in batches: wait for the five routed calls above

    with sqlite3.connect(server.home / "relaygate.db") as db:
        usage = "\n".join(repr(row) for row in db.execute("SELECT * FROM usage_events"))
    assert usage, "the calls above must have left usage events"
    sources = {"responses": "\n".join(out.texts), "server log": server.log(), "usage events": usage}
    for secret in (UPSTREAM_KEY, WRONG_UPSTREAM_KEY, WRONG_OUR_KEY, MASTER_KEY, router_key, ws.admin_key,
                   server.admin_key):  # fmt: skip
        for where, text in sources.items():
            assert secret not in text, f"a secret ({secret[:8]}…) appears in the {where}"
    assert "[redacted]" in sources["responses"]  # the echoing upstream was answered, redacted
    # The upstream really received the key (the test would prove nothing otherwise).
    assert any(r.headers.get("authorization") == f"Bearer {UPSTREAM_KEY}" for r in upstream_with_key.requests)


def _parts(secret: str) -> list[str]:
    """Every 8-character part of ``secret``: none may appear anywhere (finding 4.2)."""
    return [secret[i : i + 8] for i in range(len(secret) - 7)]


def _store_bytes(home: Path) -> str:
    files = [home / "relaygate.db", home / "relaygate.db-wal"]
    return "".join(path.read_bytes().decode("latin-1") for path in files if path.exists())


@pytest.mark.parametrize("echo", ["whole", "partial"])
def test_an_upstream_quoting_the_key_never_shows_it(
    server: RelaygateServer, echo: Literal["whole", "partial"]
) -> None:
    key = f"sk-echo-{echo}-" + secrets.token_hex(16)
    ws = server.new_workspace()
    router_key = ws.new_key()
    out = Outputs()
    with FakeUpstream(api_key=key, echo_key=echo) as upstream:
        created = out.keep(ws.api("POST", "/v2/models/openai-like", json=_model_body(upstream, key)))
        assert created.status_code == 200, created.text
        model_id, router_id = created.json()["id"], created.json()["router_id"]
        upstream.api_key = "sk-rotated-" + secrets.token_hex(8)  # the stored key is now refused, and quoted
        validated = out.keep(ws.api("POST", f"/v2/models/{model_id}/validate"))
        assert validated.status_code == 400
        assert validated.json()["error"]["code"] == "authentication_failed"
        streamed = out.keep(
            ws.api("POST", f"/v2/models/{model_id}/validate", headers={"accept": "text/event-stream"})
        )
        assert "the upstream rejected the API key" in streamed.text
        listed = out.keep(ws.api("GET", "/v2/models"))
        assert "the upstream rejected the API key" in listed.text  # the stored report, shown
        again = _model_body(upstream, key, provider="again")
        assert out.keep(ws.api("POST", "/v2/models/openai-like", json=again)).status_code == 400
        chat = {"model": router_id, "messages": [{"role": "user", "content": "hi"}]}
        relayed = out.keep(ws.api("POST", CHAT, key=router_key, json=chat))
        assert relayed.status_code == 401
        assert "Incorrect API key provided" in relayed.text
        # The upstream really was sent the key, and quoted it (the test would prove nothing otherwise).
        assert sum(r.headers.get("authorization") == f"Bearer {key}" for r in upstream.requests) >= 4
    responses = "\n".join(out.texts)
    assert responses.count("[redacted]") >= 4  # validate, its events, the stored report, the relayed 401
    sources = {"responses": responses, "server log": server.log(), "store file": _store_bytes(server.home)}
    for where, text in sources.items():
        leaked = [part for part in _parts(key) if part in text]
        assert not leaked, f"part of the upstream key ({leaked[0]}) appears in the {where}"
