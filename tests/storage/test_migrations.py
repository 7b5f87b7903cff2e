"""The migrations form one line, reach the models' schema, and downgrade cleanly."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from storage.contracts.models import (
    ContractCheck,
    ContractComment,
    ContractRating,
    ContractVersion,
    TeamContract,
)
from storage.core.db import Database, alembic_config
from storage.core.models import Team, Workspace


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


async def test_0014_holds_open_checks_answers_apart_and_gives_them_back(any_db: Database) -> None:
    """Checks open during the upgrade: their ratings and comments move to the open
    tables (sealed at their close); closed checks' stay. The downgrade moves them back."""
    await any_db.downgrade("0013")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    async with any_db.session() as session:
        workspace = Workspace(key="acme", name="Acme", channel="local", external_id="acme")
        session.add(workspace)
        await session.flush()
        team = Team(workspace_id=workspace.id or 0, key="lead", name="Lead")
        session.add(team)
        await session.flush()
        contract = TeamContract(team_id=team.id or 0, current_version=1)
        session.add(contract)
        await session.flush()
        version = ContractVersion(contract_id=contract.id or 0, version=1)
        session.add(version)
        await session.flush()
        for n, status in ((1, "closed"), (2, "open")):
            check = ContractCheck(
                id=n,
                contract_id=contract.id or 0,
                team_id=team.id or 0,
                version_id=version.id or 0,
                number=n,
                status=status,
                norm_keys=["a"],
                privacy="anonymous",
                min_respondents=3,
                min_comments=5,
                opened_at=at,
                closes_at=at,
            )
            session.add(check)
            await session.flush()
            session.add(ContractRating(check_id=n, respondent=f"r{n}", norm_key="a", score=n))
            session.add(ContractComment(check_id=n, respondent=f"r{n}", text=f"c{n}"))

    async def rows() -> dict[str, list[tuple[object, ...]]]:
        found = {}
        async with any_db.engine.connect() as connection:
            for table in ("contract_rating", "contract_comment", *OPEN):
                if table in OPEN and await any_db.current_revision() == "0013":
                    continue
                query = text(f"SELECT check_id, respondent FROM {table} ORDER BY check_id")
                found[table] = [tuple(r) for r in await connection.execute(query)]
        return found

    await any_db.upgrade("head")
    assert await rows() == {
        "contract_rating": [(1, "r1")],
        "contract_comment": [(1, "r1")],
        "contract_open_rating": [(2, "r2")],
        "contract_open_comment": [(2, "r2")],
    }
    await any_db.downgrade("0013")
    assert await rows() == {
        "contract_rating": [(1, "r1"), (2, "r2")],
        "contract_comment": [(1, "r1"), (2, "r2")],
    }
    await any_db.upgrade("head")


OPEN = ("contract_open_rating", "contract_open_comment")
