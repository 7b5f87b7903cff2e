"""`retention_months` per workspace (#13.6) in the organisation file: stored, exported,
and refused (with the reason and what to do, nothing stored) when shorter than an
answer window in the workspace, whichever side of the comparison the file changes."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.config.apply import ConfigError, apply_text, export_config
from storage.core.db import Database
from storage.core.models import AuditEntry, Workspace
from storage.pulse.models import PulseProgram
from tests.config.test_programs import BASE, _file
from tests.support.config import edit

PERIOD = "    retention_months: 24\n"  # the demo workspace's, on line 17


def _kept(text: str, months: object) -> str:
    """`text` with the demo workspace's retention period set."""
    return edit(text, PERIOD, f"    retention_months: {months}\n")


async def _stored(db: Database) -> dict[str, tuple[str, int]]:
    async with db.session() as session:
        rows = (await session.exec(select(Workspace))).all()
    return {w.key: (w.name, w.retention_months) for w in rows}


async def test_retention_is_stored_exported_and_changed(any_db: Database) -> None:
    await apply_text(any_db, _kept(BASE, 36), filename="org.yaml")
    stored = await _stored(any_db)
    assert stored["demo"][1] == 36 and stored["northwind-teams"][1] == 24  # the default
    exported = await export_config(any_db)
    assert "    retention_months: 36\n" in exported
    assert (await apply_text(any_db, exported, filename="export.yaml")).changes == []
    # Left out, it keeps its stored value; given, it changes.
    assert (await apply_text(any_db, edit(BASE, PERIOD, ""), filename="org.yaml")).changes == []
    report = await apply_text(any_db, _kept(BASE, 12), filename="org.yaml")
    assert report.changes == ["update workspace demo: retention_months"]
    assert (await _stored(any_db))["demo"][1] == 12


@pytest.mark.parametrize(
    ("months", "message"),
    [
        ("-1", "retention_months: Input should be greater than or equal to 0"),
        ("121", "retention_months: Input should be less than or equal to 120"),
        ("two", "retention_months: Input should be a valid integer"),
    ],
)
async def test_a_bad_period_is_refused_with_its_line(
    db: Database, months: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        await apply_text(db, _kept(BASE, months), filename="org.yaml")
    assert str(caught.value).startswith("org.yaml:17: workspaces[0].")
    assert message in str(caught.value)
    assert await _stored(db) == {}


async def test_a_period_shorter_than_a_program_window_is_refused(any_db: Database) -> None:
    await apply_text(any_db, _file(), filename="org.yaml")
    before = await _stored(any_db)
    async with any_db.session() as session:
        audits = len((await session.exec(select(AuditEntry))).all())
    renamed = edit(_kept(_file(), 0), "name: Northwind Leadership", "name: Northwind")
    with pytest.raises(ConfigError) as caught:
        await apply_text(any_db, renamed, filename="org.yaml")
    assert str(caught.value).startswith("org.yaml:17: workspaces[0].retention_months: ")
    assert caught.value.reason == (
        "0 months (0 days) is shorter than the answer window of pulse program 'safety' of "
        "team 'leadership' (72 h, 3 days): set at least 1 month, or shorten or end that "
        "window first"
    )
    # Nothing half-stored: not the period, not the name changed beside it, no audit row.
    assert await _stored(any_db) == before
    async with any_db.session() as session:
        assert len((await session.exec(select(AuditEntry))).all()) == audits
    assert (await apply_text(any_db, _kept(_file(), 1), filename="org.yaml")).changes == [
        "update workspace demo: retention_months"
    ]


async def test_a_window_longer_than_the_period_is_refused(any_db: Database) -> None:
    await apply_text(any_db, _kept(BASE, 0), filename="org.yaml")  # no program: allowed
    with pytest.raises(ConfigError) as caught:  # the period left as stored
        await apply_text(any_db, edit(_file(), PERIOD, ""), filename="org.yaml")
    assert "programs[0].window_hours: 72 h (3 days) is longer than the retention period of " in (
        str(caught.value)
    )
    assert (
        "workspace 'demo', 0 months (0 days): raise its retention_months to at least 1 month"
        in (str(caught.value))
    )
    async with any_db.session() as session:
        assert (await session.exec(select(PulseProgram))).all() == []
