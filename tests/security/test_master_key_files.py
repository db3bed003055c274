"""The master key files stay 0600, whatever a crash left behind."""

from __future__ import annotations

import stat
from pathlib import Path

from relaygate.security.master_keys import write_secret_file


def test_a_leftover_temporary_file_does_not_lend_its_mode_to_the_key(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    leftover = tmp_path / "master.key.tmp"  # a rotation interrupted between open and rename
    leftover.write_text("half a key")
    leftover.chmod(0o644)
    write_secret_file(key_file, "a new key\n")
    assert key_file.read_text() == "a new key\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
