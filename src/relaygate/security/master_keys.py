"""Where a process finds its master keys, and how a rotation reaches running servers.

* The current key (seals and opens): ``RELAYGATE_MASTER_KEY``, else the key file
  ``$RELAYGATE_HOME/master.key`` (created 0600 on first start).
* Older keys (open only): ``RELAYGATE_MASTER_KEY_PREVIOUS`` (comma-separated) and the
  lines of ``$RELAYGATE_HOME/master.key.previous``.

The stamp is the two files' modification times: ``relaygate rotate-master-key`` rewrites
them, and every running server sees the new keys the next time it seals a secret or
meets a ciphertext under a key id it does not know (``crypto.Keyring``).
"""

from __future__ import annotations

import os
from pathlib import Path

from relaygate.crypto import MasterKey, load_master_key


def previous_file(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".previous")


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def read_key_lines(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def write_secret_file(path: Path, text: str) -> None:
    """Replace ``path`` atomically with a 0600 file: readers see the old or the new file."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a temporary file left behind by a crash keeps its own mode otherwise
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


class MasterKeySource:
    def __init__(self, configured: str | None, previous: tuple[str, ...], key_file: Path) -> None:
        self.configured = configured
        self.previous = previous
        self.key_file = key_file
        self.previous_file = previous_file(key_file)

    def stamp(self) -> object:
        key_file = None if self.configured else _mtime(self.key_file)
        return key_file, _mtime(self.previous_file)

    def load(self) -> tuple[MasterKey, tuple[MasterKey, ...]]:
        current = load_master_key(self.configured, self.key_file)
        texts = [*self.previous, *read_key_lines(self.previous_file)]
        older = tuple(MasterKey.from_text(text) for text in texts)
        return current, tuple(key for key in older if key.key_id != current.key_id)
