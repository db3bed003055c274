"""Upstream secrets: AES-GCM bound to their row; our keys: random and hashed."""

from __future__ import annotations

import pytest

from relaygate.crypto import CryptoError, Keyring, MasterKey, hash_api_key, new_api_key


def test_seal_and_open_round_trip_bound_to_the_row() -> None:
    key = MasterKey.from_text(MasterKey.generate_text())
    sealed = key.seal("sk-secret", associated="row-1")
    assert b"sk-secret" not in sealed.ciphertext
    assert key.open(sealed, associated="row-1") == "sk-secret"
    with pytest.raises(CryptoError):
        key.open(sealed, associated="row-2")


def test_keyring_opens_with_older_keys_and_seals_with_the_current() -> None:
    old = MasterKey.from_text(MasterKey.generate_text())
    new = MasterKey.from_text(MasterKey.generate_text())
    sealed_old = old.seal("v", "r")
    ring = Keyring(new, (old,))
    assert ring.open(sealed_old, "r") == "v"
    assert ring.seal("v", "r").key_id == new.key_id
    with pytest.raises(CryptoError):
        Keyring(new).open(sealed_old, "r")


def test_api_keys_are_random_prefixed_and_hashed() -> None:
    first, second = new_api_key(), new_api_key()
    assert first != second
    assert first.startswith("rg-")
    assert len(first) >= 40
    assert len(hash_api_key(first)) == 64
    assert first not in hash_api_key(first)
