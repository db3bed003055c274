"""An HTTP evaluator's header values at rest: sealed under the master key, as upstream keys are.

A header value is the admin's secret (a bearer token, say). It is stored as
``{"sealed": <base64url>, "key_id": <master key id>, "hint": "Bea…1234"}``, bound to its
workspace and header name (associated data), so a sealed value copied elsewhere does not
open; the plaintext exists only while the scorer is called. A plain string is used as is:
a definition tested before it is saved, or a row stored before values were sealed (the
next edit or ``relaygate rotate-master-key`` seals it).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from relaygate.crypto import Keyring, MasterKey, Sealed, mask_secret

HeaderValue = str | Mapping[str, str]


def hint(value: HeaderValue) -> str:
    """What the API shows of a value: its first and last characters at most."""
    return str(value["hint"]) if isinstance(value, Mapping) else mask_secret(value)


def _associated(workspace_id: str, name: str) -> str:
    return f"evaluator-header:{workspace_id}:{name.lower()}"


def _sealed(key: Keyring | MasterKey, workspace_id: str, name: str, plaintext: str) -> dict[str, str]:
    sealed = key.seal(plaintext, _associated(workspace_id, name))
    return {
        "sealed": base64.urlsafe_b64encode(sealed.ciphertext).decode(),
        "key_id": sealed.key_id,
        "hint": mask_secret(plaintext),
    }


class HeaderSecrets:
    """Seals and opens one workspace's header values."""

    def __init__(self, keyring: Keyring, workspace_id: str) -> None:
        self._keyring = keyring
        self._workspace_id = workspace_id

    def seal(self, headers: Mapping[str, HeaderValue]) -> dict[str, Any]:
        """Every plain value sealed; values already sealed kept."""
        return {
            name: dict(value)
            if isinstance(value, Mapping)
            else _sealed(self._keyring, self._workspace_id, name, value)
            for name, value in headers.items()
        }

    def open(self, headers: Mapping[str, HeaderValue]) -> dict[str, str]:
        """The values to send (``CryptoError`` when one does not open)."""
        return {name: self._plain(name, value) for name, value in headers.items()}

    def _plain(self, name: str, value: HeaderValue) -> str:
        if not isinstance(value, Mapping):
            return value
        sealed = Sealed(value["key_id"], base64.urlsafe_b64decode(value["sealed"]))
        return self._keyring.open(sealed, _associated(self._workspace_id, name))

    def resealed(self, headers: Mapping[str, HeaderValue], target: MasterKey) -> dict[str, Any] | None:
        """The values sealed under ``target`` (master-key rotation), or None if they all are."""
        if all(
            isinstance(value, Mapping) and value.get("key_id") == target.key_id for value in headers.values()
        ):
            return None
        return {
            name: _sealed(target, self._workspace_id, name, self._plain(name, value))
            for name, value in headers.items()
        }


def sealed_content(content: Mapping[str, Any], secrets: HeaderSecrets) -> dict[str, Any]:
    """A definition's content as stored: an ``http_eval``'s header values sealed."""
    if content["kind"] != "http_eval":
        return dict(content)
    config = content["config"]
    return {**content, "config": {**config, "headers": secrets.seal(config["headers"])}}
