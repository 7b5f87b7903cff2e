"""Config as code: `export-config` writes a file that applies back to the same rows."""

from __future__ import annotations

from pathlib import Path

from bot.demo.load import ORGANISATION
from handlers.config.apply import apply_file, export_config
from storage.core.db import Database
from tests.support.config import BASE, apply


async def test_export_round_trip(any_db: Database, tmp_path: Path) -> None:
    await apply(any_db, BASE)
    exported = await export_config(any_db)

    assert "holidays: [2026-12-24, 2026-12-25]" in exported
    assert "chat:\n      slack:\n        user_id: U01ABC" in exported
    assert "leave: {from: 2026-12-20, until: 2027-01-03}" in exported
    assert "snoozed_until: 2026-12-01 08:00:00+00:00" in exported
    assert "locale: 'no'" in exported
    # applying an export to the same database changes nothing
    assert await apply(any_db, exported) == []
    assert await export_config(any_db) == exported

    # and to an empty one rebuilds the same organisation
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    await fresh.upgrade()
    try:
        assert await apply(fresh, exported) != []
        assert await export_config(fresh) == exported
        assert await apply(fresh, BASE) == []
    finally:
        await fresh.dispose()


async def test_export_of_the_demo_round_trips(db: Database, tmp_path: Path) -> None:
    await apply_file(db, ORGANISATION)
    exported = await export_config(db)
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    await fresh.upgrade()
    try:
        await apply(fresh, exported)
        assert await export_config(fresh) == exported
        assert await apply_file(fresh, ORGANISATION) == await apply_file(db, ORGANISATION)
    finally:
        await fresh.dispose()


async def test_export_of_an_empty_database(db: Database) -> None:
    exported = await export_config(db)
    assert exported.endswith("{}\n")
    assert await apply(db, exported) == []
