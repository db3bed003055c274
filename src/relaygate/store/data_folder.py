"""The data folder (``$RELAYGATE_HOME``): where the store is, whether it exists, who may read it.

The folder is 0700 and what relaygate keeps there (the SQLite file with its -wal and -shm
files, the master key files) is 0600: created so, and tightened at start when found looser.
SQLite gives the -wal and -shm files the database file's own mode, so a private database
file is enough for them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from relaygate.security.master_keys import previous_file
from relaygate.settings import Settings

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite database file of ``database_url``; None for another database or an in-memory one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).absolute()


def describe(settings: Settings) -> str:
    """Where this process keeps its data, in one line that never shows a password."""
    database = sqlite_file(settings.database_url)
    if database == settings.home / "relaygate.db":
        return f"data folder {settings.home}"
    shown = database or make_url(settings.database_url).render_as_string(hide_password=True)
    return f"data folder {settings.home}, database {shown}"


def missing_store(settings: Settings) -> str | None:
    """Why there is no store to work on, or None. A new one would be empty and unseen by the server."""
    database = sqlite_file(settings.database_url)
    if database is None or database.is_file():
        return None
    found = "has no database" if settings.home.is_dir() else "does not exist"
    return (
        f"no relaygate data here: the data folder {settings.home} {found} ({database} not found). "
        "Point RELAYGATE_HOME at the data folder of your server (its start-up line names it), "
        "or run this from the folder where the server runs; `relaygate init` creates a new one."
    )


def create_private_folder(path: Path) -> None:
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)


def create_private_file(path: Path) -> None:
    """An empty file only its owner may read (an empty file is an empty SQLite database)."""
    create_private_folder(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))


def private_paths(settings: Settings) -> list[Path]:
    """The data folder and every file relaygate keeps private in it."""
    paths = [settings.home, settings.master_key_file, previous_file(settings.master_key_file)]
    database = sqlite_file(settings.database_url)
    if database is not None:
        paths += [database, *(database.with_name(database.name + end) for end in _SQLITE_SIDE_FILES)]
    return paths


def tighten(paths: list[Path]) -> list[str]:
    """Takes the group's and others' permissions off each path that exists; says what changed."""
    changes: list[str] = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                path.chmod(mode & 0o700)
                changes.append(f"tightened the permissions of {path} from {mode:04o} to {mode & 0o700:04o}")
        except FileNotFoundError:
            continue
        except OSError as exc:
            changes.append(f"could not tighten the permissions of {path}: {exc.strerror}")
    return changes
