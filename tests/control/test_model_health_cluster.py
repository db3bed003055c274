"""Model health on two processes sharing PostgreSQL and Redis: both tell the same state
(each process saves its tallies to the shared store, the breaker is shared through Redis),
and a model's periodic health check runs in exactly one of them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import openai
import pytest

from support.cluster import running_cluster, within
from support.server import Workspace
from support.usage_events import usage_events
from upstream import FakeUpstream, Fault


def _health(workspace: Workspace, model_id: str) -> dict[str, Any]:
    response = workspace.api("GET", f"/v2/models/{model_id}/health")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_two_processes_share_health_and_run_each_check_once(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    with running_cluster(
        tmp_path, RELAYGATE_BREAKER_FAILURES="3", RELAYGATE_BREAKER_COOLDOWN="120"
    ) as cluster:
        on_a = cluster.a.new_workspace()
        cluster.b.wait_for_key(on_a.admin_key)
        on_b = Workspace(on_a.name, on_a.admin_key, cluster.b)
        model = on_a.add_model(fake_upstream, "gpt-test")
        fake_upstream.reset()

        patch = {"health_check": {"enabled": True, "interval_seconds": 30}}
        assert on_b.api("PATCH", f"/v2/models/{model['id']}", json=patch).status_code == 200
        within(10, lambda: len(_health(on_a, model["id"])["checks"]) == 1)
        time.sleep(7)  # both processes scanned (every 5 s) since: neither ran it again
        assert len(_health(on_b, model["id"])["checks"]) == 1
        assert len(fake_upstream.requests_to("/models")) == 1
        assert len(fake_upstream.requests_to("/chat/completions")) == 1

        # Calls through a fail; b tells the same: its windows read the shared store, and
        # the breaker a opened reaches b through Redis.
        fake_upstream.script("/chat/completions", [Fault(status=502)] * 3)
        client = on_a.client()
        for _ in range(3):
            with pytest.raises(openai.APIStatusError) as caught:
                client.chat.completions.create(
                    model=model["router_id"], messages=[{"role": "user", "content": "hi"}]
                )
            assert caught.value.status_code == 502
        usage_events(on_b, 3)
        within(5, lambda: _health(on_b, model["id"])["state"] == "breaker_open")

        def counted_on_b() -> bool:  # a saves its tallies every 5 s
            recent = _health(on_b, model["id"])["windows"][0]
            return (recent["calls"], recent["errors"]) == (3, 3)

        within(12, counted_on_b)
