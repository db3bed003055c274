"""Alert rules' conditions checked field by field, and the webhook's signature (pure)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from relaygate.alerts.kinds import condition, threshold_of
from relaygate.alerts.signing import new_secret, signature, verify
from relaygate.errors import InvalidRequest


def test_conditions_take_their_kind_fields_with_defaults() -> None:
    assert condition("budget_threshold", {"budget_id": "b1"}) == {"percent": 80, "budget_id": "b1"}
    assert condition("model_failing", {}) == {"failures": 3}
    assert condition("model_failing", {"model": "openai/gpt", "failures": 5}) == {
        "failures": 5,
        "model": "openai/gpt",
    }
    assert condition("error_rate", {"max_percent": 12.5}) == {
        "max_percent": 12.5,
        "window_minutes": 5,
        "min_calls": 10,
    }
    assert threshold_of("error_rate", {"max_percent": 12.5}) == 12.5
    assert threshold_of("budget_threshold", {"percent": 90}) == 90


@pytest.mark.parametrize(
    ("kind", "given", "param"),
    [
        ("unknown", {}, "kind"),
        ("budget_threshold", {}, "budget_id"),
        ("budget_threshold", {"budget_id": "b", "percent": 0}, "percent"),
        ("budget_threshold", {"budget_id": "b", "model": "m"}, "model"),
        ("error_rate", {}, "max_percent"),
        ("error_rate", {"max_percent": True}, "max_percent"),
        ("error_rate", {"max_percent": 5, "window_minutes": 2000}, "window_minutes"),
        ("model_failing", {"model": ""}, "model"),
    ],
)
def test_a_wrong_field_is_named(kind: str, given: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        condition(kind, given)
    assert caught.value.param == param


def test_the_signature_is_hmac_sha256_of_time_dot_body() -> None:
    secret, body = new_secret(), b'{"id":"01J","state":"firing"}'
    header = signature(secret, 1_800_000_000, body)
    mac = hmac.new(secret.encode(), b"1800000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={mac}"
    assert verify(secret, header, body, now=1_800_000_100)
    assert not verify(secret, header, body + b" ", now=1_800_000_100)  # another body
    assert not verify("whsec_other", header, body, now=1_800_000_100)  # another secret
    assert not verify(secret, header, body, now=1_800_001_000)  # too old: a replay
    assert not verify(secret, "v1=abc", body, now=1_800_000_000)
    assert secret.startswith("whsec_")
    assert new_secret() != secret
