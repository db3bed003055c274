"""Which /v2 writes the audit log records as what, and secrets scrubbed from its snapshots (pure)."""

from __future__ import annotations

from relaygate.control.audit_rules import REDACTED, generic_target, picked, scrub, target_of


def test_writes_are_named_by_resource_action_and_id() -> None:
    cases = {
        ("POST", "/v2/models/openai-like"): ("model", "create", None, None),
        ("PATCH", "/v2/models/openai-like/m1"): ("model", "update", "m1", "/v2/models/m1"),
        ("POST", "/v2/models/m1/validate"): ("model", "validate", "m1", "/v2/models/m1"),
        ("DELETE", "/v2/api-keys/k1"): ("api_key", "delete", "k1", "/v2/api-keys"),
        ("PATCH", "/v2/budgets/b1"): ("budget", "update", "b1", "/v2/budgets/b1"),
        ("POST", "/v2/deployments/faq/rollback"): ("deployment", "rollback", "faq", "/v2/deployments/faq"),
        ("PATCH", "/v2/datasets/d1/datapoints/p1"): (
            "datapoint",
            "update",
            "p1",
            "/v2/datasets/d1/datapoints/p1",
        ),
        ("POST", "/v2/datasets/d1/import"): ("dataset", "add_datapoints", "d1", "/v2/datasets/d1"),
        ("POST", "/v2/experiments/e1/pause"): ("experiment", "pause", "e1", "/v2/experiments/e1"),
        ("PUT", "/v2/search/backend"): ("search_backend", "set", None, "/v2/search/backend"),
        ("PATCH", "/v2/workspace/logging"): (
            "workspace_setting",
            "update",
            "logging",
            "/v2/workspace/logging",
        ),
        ("DELETE", "/v2/alerts/rules/r1"): ("alert_rule", "delete", "r1", "/v2/alerts/rules/r1"),
    }
    for (method, path), (resource, action, resource_id, reader) in cases.items():
        target = target_of(method, path)
        assert target is not None, path
        assert (target.resource, target.action, target.resource_id, target.reader_path()) == (
            resource,
            action,
            resource_id,
            reader,
        ), path
    assert target_of("DELETE", "/v2/api-keys/k1").pick  # type: ignore[union-attr]


def test_reads_checks_and_test_calls_are_not_changes() -> None:
    for method, path in (
        ("GET", "/v2/models"),
        ("POST", "/v2/models/validate"),
        ("POST", "/v2/evaluators/test"),
        ("POST", "/v2/evaluators/e1/test"),
        ("POST", "/v2/alerts/rules/r1/test"),
        ("POST", "/v3/router/chat/completions"),
    ):
        assert target_of(method, path) is None, (method, path)


def test_a_write_no_rule_knows_is_still_recorded_without_snapshots() -> None:
    target = generic_target("POST", "/v2/things/t1/archive")
    assert (target.resource, target.action, target.resource_id, target.reader) == (
        "things",
        "create:archive",
        "t1",
        None,
    )
    assert target_of("PUT", "/v2/new-feature") == generic_target("PUT", "/v2/new-feature")


def test_scrub_removes_secrets_at_any_depth_and_keeps_the_rest() -> None:
    snapshot = {
        "id": "e1",
        "api_key": "sk-live-1",
        "headers": {"Authorization": "Bearer x", "X-Team": "t"},
        "config": {"secret": "whsec_1", "token": None, "nested": [{"password": "p", "name": "n"}]},
        "api_key_hint": "sk-…abcd",
    }
    assert scrub(snapshot) == {
        "id": "e1",
        "api_key": REDACTED,
        "headers": {"Authorization": REDACTED, "X-Team": REDACTED},
        "config": {"secret": REDACTED, "token": None, "nested": [{"password": REDACTED, "name": "n"}]},
        "api_key_hint": "sk-…abcd",
    }


def test_picked_finds_the_object_of_a_list_answer() -> None:
    listing = {"object": "list", "data": [{"id": "a"}, {"id": "b", "name": "B"}]}
    assert picked(listing, "b") == {"id": "b", "name": "B"}
    assert picked(listing, "c") is None
    assert picked(None, "a") is None
