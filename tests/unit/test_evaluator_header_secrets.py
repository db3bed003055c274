"""An http_eval evaluator's header values sealed at rest, bound to their workspace and name."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.crypto import CryptoError, Keyring, MasterKey
from relaygate.evaluators.header_secrets import HeaderSecrets, hint, sealed_content
from relaygate.evaluators.http_eval import kept_headers, masked_headers

OLD, NEW = MasterKey(b"o" * 32), MasterKey(b"n" * 32)
TOKEN = "Bearer sk-secret-123456"


def test_values_are_sealed_shown_as_hints_and_opened_for_the_call() -> None:
    secrets = HeaderSecrets(Keyring(OLD), "ws-1")
    stored = secrets.seal({"Authorization": TOKEN, "X-Team": "evals-team-7"})
    assert TOKEN not in str(stored)
    assert "evals-team-7" not in str(stored)
    assert stored["Authorization"]["key_id"] == OLD.key_id
    assert masked_headers(stored) == {"Authorization": "Bea…3456", "X-Team": "eva…am-7"}
    assert secrets.open(stored) == {"Authorization": TOKEN, "X-Team": "evals-team-7"}
    assert secrets.seal(stored) == stored, "a sealed value is kept as it is"
    assert secrets.open({"X-Plain": "as typed"}) == {"X-Plain": "as typed"}  # an unsaved test's


def test_a_sealed_value_opens_only_in_its_workspace_under_its_name() -> None:
    stored = HeaderSecrets(Keyring(OLD), "ws-1").seal({"Authorization": TOKEN})
    with pytest.raises(CryptoError):
        HeaderSecrets(Keyring(OLD), "ws-2").open(stored)
    with pytest.raises(CryptoError):
        HeaderSecrets(Keyring(OLD), "ws-1").open({"X-Other": stored["Authorization"]})


def test_rotation_reseals_under_the_new_key_and_seals_plain_values() -> None:
    ring = Keyring(NEW, (OLD,))
    secrets = HeaderSecrets(ring, "ws-1")
    stored = HeaderSecrets(Keyring(OLD), "ws-1").seal({"Authorization": TOKEN})
    moved = secrets.resealed({**stored, "X-Legacy": "plain-value-1"}, NEW)
    assert moved is not None
    assert {value["key_id"] for value in moved.values()} == {NEW.key_id}
    assert HeaderSecrets(Keyring(NEW), "ws-1").open(moved) == {
        "Authorization": TOKEN,
        "X-Legacy": "plain-value-1",
    }
    assert secrets.resealed(moved, NEW) is None, "nothing left to move"


def test_an_update_sending_the_hint_back_keeps_the_sealed_value() -> None:
    stored = HeaderSecrets(Keyring(OLD), "ws-1").seal({"Authorization": TOKEN})
    kept = kept_headers({"Authorization": hint(stored["Authorization"]), "X-New": "v"}, stored)
    assert kept == {"Authorization": stored["Authorization"], "X-New": "v"}


def test_only_http_eval_content_changes_when_sealed() -> None:
    secrets = HeaderSecrets(Keyring(OLD), "ws-1")
    other = {"kind": "regex", "config": {"pattern": "a"}}
    assert sealed_content(other, secrets) == other
    http: dict[str, Any] = {
        "kind": "http_eval",
        "config": {"url": "http://x", "headers": {"A": "secret-value"}},
    }
    assert "secret-value" not in str(sealed_content(http, secrets))
    assert http["config"]["headers"] == {"A": "secret-value"}, "the given content is not changed"
