"""Secrets at rest: AES-GCM for upstream keys, SHA-256 digests for our own keys.

Upstream API keys are encrypted under a 256-bit master key. Each ciphertext is stored
with the id of the key that sealed it and is bound to its row through associated data,
so a ciphertext copied onto another row does not decrypt. Our API keys are random and
high-entropy, so a plain SHA-256 digest is a safe, constant-cost lookup key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_PREFIX = "rg-"
_NONCE_BYTES = 12


class CryptoError(Exception):
    """A secret could not be sealed or opened (wrong master key, corrupted row)."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: bytes


class MasterKey:
    """One AES-256-GCM key plus a short id derived from it (stored beside ciphertexts)."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise CryptoError("the master key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(raw)
        self.key_id = hashlib.sha256(b"relaygate-key-id" + raw).hexdigest()[:12]

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        try:
            raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        except (ValueError, TypeError) as exc:
            raise CryptoError("the master key is not valid base64") from exc
        return cls(raw)

    @classmethod
    def generate_text(cls) -> str:
        return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")

    def seal(self, plaintext: str, associated: str) -> Sealed:
        nonce = os.urandom(_NONCE_BYTES)
        data = self._aead.encrypt(nonce, plaintext.encode(), associated.encode())
        return Sealed(self.key_id, nonce + data)

    def open(self, sealed: Sealed, associated: str) -> str:
        if sealed.key_id != self.key_id:
            raise CryptoError(f"secret was sealed with master key {sealed.key_id}, not {self.key_id}")
        nonce, data = sealed.ciphertext[:_NONCE_BYTES], sealed.ciphertext[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, data, associated.encode()).decode()
        except InvalidTag as exc:
            raise CryptoError("secret does not decrypt under the master key (corrupted or moved)") from exc


class KeySource(Protocol):
    """Where the master keys come from; ``stamp`` changes when they may have changed."""

    def stamp(self) -> object: ...

    def load(self) -> tuple[MasterKey, tuple[MasterKey, ...]]: ...


class Keyring:
    """The current master key (seals) and any older ones still accepted for opening.

    With a ``source``, the ring follows a rotation without a restart (docs/security.md):
    before sealing it re-reads the keys when the source's stamp moved, and a ciphertext
    under an unknown key id makes it re-read them once before giving up.
    """

    def __init__(
        self, current: MasterKey, older: tuple[MasterKey, ...] = (), source: KeySource | None = None
    ) -> None:
        self._source = source
        self._stamp = source.stamp() if source is not None else None
        self._use(current, older)

    @classmethod
    def from_source(cls, source: KeySource) -> Keyring:
        current, older = source.load()
        return cls(current, older, source)

    def _use(self, current: MasterKey, older: tuple[MasterKey, ...]) -> None:
        self.current = current
        self._by_id = {key.key_id: key for key in (*older, current)}

    def reload_if_changed(self) -> bool:
        if self._source is None:
            return False
        stamp = self._source.stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        self._use(*self._source.load())
        return True

    def seal(self, plaintext: str, associated: str) -> Sealed:
        self.reload_if_changed()
        return self.current.seal(plaintext, associated)

    def open(self, sealed: Sealed, associated: str) -> str:
        key = self._by_id.get(sealed.key_id)
        if key is None and self.reload_if_changed():
            key = self._by_id.get(sealed.key_id)
        if key is None:
            raise CryptoError(f"no master key with id {sealed.key_id} is configured")
        return key.open(sealed, associated)


def load_master_key(configured: str | None, key_file: Path) -> MasterKey:
    """The configured key, else the key file, else a new key written to the file (0600)."""
    if configured:
        return MasterKey.from_text(configured)
    if key_file.exists():
        return MasterKey.from_text(key_file.read_text())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    text = MasterKey.generate_text()
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return MasterKey.from_text(key_file.read_text())
    try:
        os.write(fd, (text + "\n").encode())
    finally:
        os.close(fd)
    return MasterKey.from_text(text)


def new_api_key() -> str:
    """A new relaygate key: visible prefix plus 256 bits of randomness."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + 6]


def mask_secret(secret: str) -> str:
    """A hint that identifies a key to its owner without revealing it."""
    if len(secret) <= 8:
        return "…"
    return f"{secret[:3]}…{secret[-4:]}"
