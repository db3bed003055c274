"""Where a store's schema stands, read without alembic, agrees with alembic."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from relaygate.settings import Settings
from relaygate.store import migrate
from relaygate.store.database import create_engine

SCRIPTS = Path(migrate.__file__).parent / "migrations"


def test_the_newest_script_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    assert migrate.head_revision() == ScriptDirectory.from_config(config).get_current_head()


async def _revisions_through_an_upgrade(home: Path) -> list[str | None]:
    engine = create_engine(Settings.from_env({"RELAYGATE_HOME": str(home)}))
    try:
        seen = [await migrate.current_revision(engine)]
        await migrate.upgrade_to_head(engine)
        seen.append(await migrate.current_revision(engine))
        await migrate.upgrade_to_head(engine)  # current already: nothing to do
        seen.append(await migrate.current_revision(engine))
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        seen.append(await migrate.current_revision(engine))
        with pytest.raises(migrate.SchemaBehind, match="at revision 0001"):
            await migrate.ensure_current(engine)
        return seen
    finally:
        await engine.dispose()


def test_a_store_goes_from_no_revision_to_the_head_and_an_older_one_is_behind(tmp_path: Path) -> None:
    head = migrate.head_revision()
    assert asyncio.run(_revisions_through_an_upgrade(tmp_path)) == [None, head, head, "0001"]


async def _upgraded_in_a_child(home: Path, start_at: str | None) -> str | None:
    engine = create_engine(Settings.from_env({"RELAYGATE_HOME": str(home)}))
    try:
        if start_at is not None:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
                await conn.execute(text("INSERT INTO alembic_version VALUES (:at)"), {"at": start_at})
        await migrate.upgrade_to_head_in_child(engine)
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def test_a_child_process_upgrades_a_store_that_is_behind(tmp_path: Path) -> None:
    assert asyncio.run(_upgraded_in_a_child(tmp_path, None)) == migrate.head_revision()


def test_a_failed_upgrade_in_the_child_is_an_error_here(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(migrate.MigrationFailed, match="upgrading the store failed"):
        asyncio.run(_upgraded_in_a_child(tmp_path, "9999"))  # a revision no script knows
    assert "9999" in capfd.readouterr().err, "the child's own error is shown"
