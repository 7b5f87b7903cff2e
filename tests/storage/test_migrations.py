"""The migrations form one line, reach the models' schema, and downgrade cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from storage.core.db import Database, alembic_config


def test_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = [r.revision for r in script.walk_revisions()]
    assert revisions == sorted(revisions, reverse=True)  # 0007 -> 0001, no branches


async def test_head_matches_the_models(any_db: Database) -> None:
    async with any_db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
        )
    assert diff == []


async def test_downgrade_to_nothing_and_back(db: Database) -> None:
    await db.downgrade("base")
    assert await db.current_revision() is None
    await db.upgrade("head")
    assert (
        await db.current_revision()
        == ScriptDirectory.from_config(alembic_config()).get_current_head()
    )
