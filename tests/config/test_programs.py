"""The `programs:` section of the organisation file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.demo.load import ORGANISATION
from handlers.config.apply import ConfigError, apply_text, export_config
from handlers.context import Services
from handlers.pulse.rounds import open_round
from prompts.instruments import load_instruments
from storage.core import schedule
from storage.core.db import Database
from storage.pulse.models import PulseProgram
from tests.support.clock import FakeClock

BASE = ORGANISATION.read_text(encoding="utf-8").split("\nprograms:")[0]
PROGRAM = """
programs:
  - key: safety
    workspace: demo
    team: leadership
    instrument: {instrument}
    items_per_pulse: {per}
    rotation_rounds: {rounds}
    cadence: {{frequency: weekly, weekday: tue, at: "10:00", spread_until: "12:00"}}
    thresholds: {{respondents: {respondents}, comments: 5}}
"""


def _file(
    instrument: str = "team_safety", per: int = 3, rounds: int = 3, respondents: int = 3
) -> str:
    return BASE + PROGRAM.format(
        instrument=instrument, per=per, rounds=rounds, respondents=respondents
    )


async def test_programs_are_created_idempotently_and_planned(any_db: Database) -> None:
    report = await apply_text(any_db, _file(), filename="org.yaml")
    assert "create program safety for leadership" in report.changes
    assert (await apply_text(any_db, _file(), filename="org.yaml")).changes == []
    async with any_db.session() as session:
        program = (await session.exec(select(PulseProgram))).one()
        [entry] = await schedule.entries(session, "pulse")
    assert (program.weekday, program.at, program.spread_until, program.items_per_pulse) == (
        1,
        "10:00",
        "12:00",
        3,
    )
    assert entry.due_at == schedule.ASAP  # the dispatcher plans it at its next pass
    exported = await export_config(any_db)
    assert (await apply_text(any_db, exported, filename="export.yaml")).changes == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"instrument": "nope"}, "programs[0].instrument: no instrument 'nope'"),
        (
            {"per": 2, "rounds": 3},
            "programs[0].rotation_rounds: 2 of 7 items per pulse cannot ask every item "
            "within 3 rounds; it takes at least 4",
        ),
        ({"per": 9}, "programs[0].items_per_pulse: team_safety has only 7 items"),
        ({"respondents": 2}, "programs[0].thresholds.respondents"),
        (
            {"respondents": 6},  # comments stay at 5
            "programs[0].thresholds.comments: must be at least the respondents threshold (6)",
        ),
    ],
)
async def test_bad_programs_are_refused_with_line_and_nothing_stored(
    db: Database, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        await apply_text(db, _file(**options), filename="org.yaml")  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert str(caught.value).startswith("org.yaml:")
    async with db.session() as session:
        assert (await session.exec(select(PulseProgram))).all() == []


async def test_thresholds_are_locked_while_a_round_is_open(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await apply_text(db, _file(), filename="org.yaml")
    services = Services(db=db, clock=clock, instruments=load_instruments())
    await open_round(services, "leadership")
    with pytest.raises(ConfigError, match=r"thresholds: locked while round 1 is open"):
        await apply_text(db, _file(respondents=4), filename="org.yaml")
    # Other changes still apply.
    report = await apply_text(db, _file(per=4, rounds=2), filename="org.yaml")
    assert report.changes == ["update program safety: items_per_pulse, rotation_rounds"]
