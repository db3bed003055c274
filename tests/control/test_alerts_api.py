"""/v2/alerts: rules, episodes firing once and resolving, signed webhook deliveries to a real
receiver on loopback, retries with backoff, test deliveries, SSRF refusals, isolation."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from relaygate.crypto import MasterKey
from security.helpers import ServerFactory

from support.server import RelaygateServer, Workspace, make_server
from support.webhook_receiver import Delivery, WebhookReceiver
from tests_shared import assert_openai_error
from upstream import FakeUpstream
from upstream.faults import Fault

MESSAGES: list[Any] = [{"role": "user", "content": "hello"}]
FAST = {"RELAYGATE_ALERTS_INTERVAL": "0.2", "RELAYGATE_ALERT_RETRY_BASE": "0.3"}


@pytest.fixture(scope="module")
def alerting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelaygateServer]:
    """A relaygate evaluating alert rules every 0.2 s, retrying deliveries after 0.3 s, 0.6 s..."""
    server = make_server(Path(tmp_path_factory.mktemp("alerting")), **FAST).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def team(alerting: RelaygateServer) -> Workspace:
    return alerting.new_workspace()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    try:
        yield hook
    finally:
        hook.stop()


def _verified(delivery: Delivery, secret: str) -> dict[str, Any]:
    """The delivery's body, once its signature is checked as docs/alerts.md tells receivers to."""
    header = delivery.headers["x-relaygate-signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    signed = parts["t"].encode() + b"." + delivery.raw
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])
    assert abs(time.time() - int(parts["t"])) < 60
    return delivery.body


def _rule(team: Workspace, **body: Any) -> dict[str, Any]:
    response = team.api("POST", "/v2/alerts/rules", json={"name": "rule", **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _events(team: Workspace, **params: Any) -> list[dict[str, Any]]:
    response = team.api("GET", "/v2/alerts", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def _budget(team: Workspace, amount: float) -> dict[str, Any]:
    response = team.api("POST", "/v2/budgets", json={"scope": "workspace", "amount_usd": amount})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_rules_are_checked_stored_with_a_secret_shown_once_and_isolated(
    team: Workspace, alerting: RelaygateServer, receiver: WebhookReceiver
) -> None:
    budget = _budget(team, 5)
    created = _rule(team, kind="budget_threshold", budget_id=budget["id"], webhook_url=receiver.url)
    assert created["secret"].startswith("whsec_")
    assert created["percent"] == 80  # the default
    assert created["enabled"] is True
    assert created["firing"] == []
    shown = team.api("GET", f"/v2/alerts/rules/{created['id']}").json()
    assert "secret" not in shown
    assert shown["secret_hint"] == f"whs…{created['secret'][-4:]}"
    changed = team.api("PATCH", f"/v2/alerts/rules/{created['id']}", json={"percent": 95, "enabled": False})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["percent"], changed.json()["enabled"]) == (95, False)
    listed = team.api("GET", "/v2/alerts/rules").json()["data"]
    assert [rule["id"] for rule in listed] == [created["id"]]

    refusals = [
        ({"kind": "nothing"}, "kind"),
        ({"kind": "budget_threshold"}, "budget_id"),
        ({"kind": "budget_threshold", "budget_id": "missing"}, "budget_id"),
        ({"kind": "budget_threshold", "budget_id": budget["id"], "failures": 3}, "failures"),
        ({"kind": "model_failing", "model": "fake/none"}, "model"),
        ({"kind": "error_rate"}, "max_percent"),
        ({"kind": "error_rate", "max_percent": 101}, "max_percent"),
        ({"kind": "model_failing", "webhook_url": "ftp://example.com/x"}, "webhook_url"),
    ]
    for body, param in refusals:
        body = {"name": "bad", "webhook_url": receiver.url, **body}
        error = assert_openai_error(
            team.api("POST", "/v2/alerts/rules", json=body), 400, "invalid_request_error"
        )
        assert error["error"]["param"] == param, (body, error)

    other = alerting.new_workspace()
    assert other.api("GET", f"/v2/alerts/rules/{created['id']}").status_code == 404
    assert other.api("DELETE", f"/v2/alerts/rules/{created['id']}").status_code == 404
    assert other.api("POST", f"/v2/alerts/rules/{created['id']}/test").status_code == 404
    assert other.api("GET", "/v2/alerts/rules").json()["data"] == []
    router_key = team.new_key("router")
    assert team.api("GET", "/v2/alerts/rules", key=router_key).status_code == 403
    assert team.api("DELETE", f"/v2/alerts/rules/{created['id']}").status_code == 204
    assert team.api("GET", f"/v2/alerts/rules/{created['id']}").status_code == 404


def test_a_budget_threshold_fires_once_from_real_calls_and_resolves(
    team: Workspace, upstream: FakeUpstream, receiver: WebhookReceiver
) -> None:
    # $0.0001 a token: a call reserves about $0.01 of the budget and costs about $0.0005.
    model = team.add_model(upstream, "gpt-test", input_cost="100", output_cost="100")
    budget = _budget(team, 0.04)
    rule = _rule(team, kind="budget_threshold", budget_id=budget["id"], percent=25, webhook_url=receiver.url)
    client = team.client()
    for _ in range(40):  # real router calls through the fake upstream, until a quarter is spent
        client.chat.completions.create(model=model["router_id"], messages=MESSAGES, max_tokens=5)
        spent = team.api("GET", f"/v2/budgets/{budget['id']}").json()["spent_usd"]
        if spent >= 0.01:
            break
    assert spent >= 0.01, spent
    firing = _verified(receiver.wait_for(lambda body: body["state"] == "firing")[0], rule["secret"])
    assert firing["rule"] == rule["id"]
    assert firing["kind"] == "budget_threshold"
    assert firing["subject"] == budget["id"]
    assert firing["threshold"] == 25
    assert firing["value"] >= 25
    assert firing["test"] is False
    assert set(firing) >= {"id", "rule", "kind", "state", "workspace", "subject", "value", "threshold", "at"}
    time.sleep(1.0)  # several rounds later: still one firing event (one per episode)
    assert len(receiver.accepted(lambda body: body["state"] == "firing")) == 1
    assert team.api("GET", f"/v2/alerts/rules/{rule['id']}").json()["firing"] == [budget["id"]]

    raised = team.api("PATCH", f"/v2/budgets/{budget['id']}", json={"amount_usd": 100})
    assert raised.status_code == 200, raised.text
    resolved = _verified(receiver.wait_for(lambda body: body["state"] == "resolved")[0], rule["secret"])
    assert resolved["subject"] == budget["id"]
    assert resolved["value"] < 25
    events = _events(team)
    assert [event["state"] for event in events] == ["resolved", "firing"]
    assert all(event["delivery"]["status"] == "delivered" for event in events)
    assert events[1]["id"] == firing["id"]
    assert events[1]["delivery"]["log"][0]["status"] == 200


def test_a_failing_model_and_an_error_rate_fire_and_resolve(
    team: Workspace, fake_upstream: FakeUpstream, receiver: WebhookReceiver
) -> None:
    model = team.add_model(fake_upstream, "gpt-test")
    failing = _rule(
        team, kind="model_failing", model=model["router_id"], failures=2, webhook_url=receiver.url
    )
    rate = _rule(
        team, kind="error_rate", max_percent=50, min_calls=2, window_minutes=5, webhook_url=receiver.url
    )
    fake_upstream.script("/chat/completions", [Fault(status=500)] * 3)
    client = team.client()
    for _ in range(3):
        with pytest.raises(openai.InternalServerError):  # the upstream's 500, relayed
            client.chat.completions.create(model=model["router_id"], messages=MESSAGES)

    def fired(rule: dict[str, Any], state: str) -> Any:
        return lambda body: body["rule"] == rule["id"] and body["state"] == state

    model_down = _verified(receiver.wait_for(fired(failing, "firing"))[0], failing["secret"])
    assert model_down["subject"] == model["router_id"]
    assert model_down["value"] >= 2
    too_many = _verified(receiver.wait_for(fired(rate, "firing"))[0], rate["secret"])
    assert (too_many["subject"], too_many["value"], too_many["threshold"]) == ("workspace", 100, 50)

    for _ in range(3):
        client.chat.completions.create(model=model["router_id"], messages=MESSAGES)
    back = _verified(receiver.wait_for(fired(failing, "resolved"))[0], failing["secret"])
    assert back["value"] == 0
    calmer = _verified(receiver.wait_for(fired(rate, "resolved"))[0], rate["secret"])
    assert calmer["value"] == 50
    assert len(receiver.accepted(fired(failing, "firing"))) == 1
    assert [event["state"] for event in _events(team, rule=rate["id"])] == ["resolved", "firing"]


def test_a_delivery_is_retried_with_backoff_until_the_receiver_takes_it(
    team: Workspace, fake_upstream: FakeUpstream
) -> None:
    hook = WebhookReceiver(fail_first=2).start()
    try:
        model = team.add_model(fake_upstream, "gpt-test")
        rule = _rule(team, kind="error_rate", max_percent=0, min_calls=1, webhook_url=hook.url)
        fake_upstream.script("/chat/completions", [Fault(status=500)])
        with pytest.raises(openai.InternalServerError):
            team.client().chat.completions.create(model=model["router_id"], messages=MESSAGES)
        delivered = hook.wait_for(lambda body: body["state"] == "firing")
        assert [d.status for d in hook.received] == [500, 500, 200]
        assert len({d.body["id"] for d in hook.received}) == 1  # the same event, three attempts
        assert len({d.raw for d in hook.received}) == 1
        _verified(delivered[0], rule["secret"])
        deadline = time.monotonic() + 5
        while (event := _events(team)[0])["delivery"][
            "status"
        ] != "delivered" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert event["delivery"]["attempts"] == 3
        log = event["delivery"]["log"]
        assert [attempt["status"] for attempt in log] == [500, 500, 200]
        assert log[0]["error"] == "answered HTTP 500"
    finally:
        hook.stop()


def test_a_test_delivery_is_signed_logged_and_reports_failure(
    team: Workspace, receiver: WebhookReceiver
) -> None:
    rule = _rule(team, kind="model_failing", webhook_url=receiver.url)
    answer = team.api("POST", f"/v2/alerts/rules/{rule['id']}/test")
    assert answer.status_code == 200, answer.text
    event = answer.json()
    assert event["test"] is True
    assert event["delivery"]["status"] == "delivered"
    body = _verified(receiver.wait_for(lambda body: body["test"] is True)[0], rule["secret"])
    assert body["id"] == event["id"]
    assert body["state"] == "firing"
    receiver.stop()  # nobody listens any more: the attempt fails, once, and says why
    failed = team.api("POST", f"/v2/alerts/rules/{rule['id']}/test").json()
    assert failed["delivery"]["status"] == "failed"
    assert failed["delivery"]["attempts"] == 1
    assert failed["delivery"]["log"][0]["error"].startswith("not reached")
    assert [event["delivery"]["status"] for event in _events(team)] == ["failed", "delivered"]


def test_a_private_webhook_address_is_refused_without_the_allowlist(
    relaygate_factory: ServerFactory, receiver: WebhookReceiver
) -> None:
    strict = relaygate_factory(RELAYGATE_ALLOW_PRIVATE_UPSTREAMS="")
    workspace = strict.new_workspace()
    for url in (receiver.url, "http://10.0.0.5/hook", "http://169.254.169.254/latest"):
        body = {"name": "private", "kind": "model_failing", "webhook_url": url}
        refused = workspace.api("POST", "/v2/alerts/rules", json=body)
        error = assert_openai_error(refused, 400, "invalid_request_error")
        assert error["error"]["param"] == "webhook_url"
        assert "base_url" not in error["error"]["message"]
    assert workspace.api("GET", "/v2/alerts/rules").json()["data"] == []
    assert receiver.received == []


def test_a_rotated_master_key_reseals_the_signing_secret(
    relaygate_factory: ServerFactory, receiver: WebhookReceiver
) -> None:
    old, new = MasterKey.generate_text(), MasterKey.generate_text()
    server = relaygate_factory(RELAYGATE_MASTER_KEY=old)
    team = server.new_workspace()
    rule = _rule(team, kind="model_failing", webhook_url=receiver.url)
    server.stop()
    server.env.update(RELAYGATE_MASTER_KEY=new, RELAYGATE_MASTER_KEY_PREVIOUS=old)
    server.start()
    server.cli("rotate-master-key")
    server.stop()
    del server.env["RELAYGATE_MASTER_KEY_PREVIOUS"]
    server.start()  # only the new key: the secret was sealed again under it
    sent = team.api("POST", f"/v2/alerts/rules/{rule['id']}/test")
    assert sent.json()["delivery"]["status"] == "delivered", sent.text
    _verified(receiver.wait_for(lambda body: body["test"] is True)[0], rule["secret"])


def test_a_model_that_fails_every_other_call_fires_through_its_health(
    team: Workspace, fake_upstream: FakeUpstream, receiver: WebhookReceiver
) -> None:
    """Never two failures in a row, so neither the breaker nor the count in a row says so:
    model health's state (half of at least five calls failed) does, until a call succeeds."""
    model = team.add_model(fake_upstream, "gpt-test")
    failing = _rule(
        team, kind="model_failing", model=model["router_id"], failures=3, webhook_url=receiver.url
    )
    fake_upstream.script("/chat/completions", [Fault(), Fault(status=500)] * 3)
    client = team.client().with_options(max_retries=0)
    for call in range(6):
        if call % 2 == 1:
            with pytest.raises(openai.InternalServerError):
                client.chat.completions.create(model=model["router_id"], messages=MESSAGES)
        else:
            client.chat.completions.create(model=model["router_id"], messages=MESSAGES)
    deadline = time.monotonic() + 10  # the calls reach model health as usage events are handled
    while (health := team.api("GET", f"/v2/models/{model['id']}/health").json())["state"] != "failing":
        assert time.monotonic() < deadline, health
        time.sleep(0.1)
    fired = receiver.wait_for(lambda body: body["rule"] == failing["id"] and body["state"] == "firing")
    assert _verified(fired[0], failing["secret"])["subject"] == model["router_id"]
    client.chat.completions.create(model=model["router_id"], messages=MESSAGES)
    receiver.wait_for(lambda body: body["rule"] == failing["id"] and body["state"] == "resolved")
