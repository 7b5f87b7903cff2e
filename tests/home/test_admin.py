"""Admins configure the pulse program in chat, with the config file's validation,
locks and audit; and see the planned schedule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from bot.demo.load import ORGANISATION
from storage.core.models import AuditEntry
from storage.pulse.models import PulseProgram
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import running_org


async def _program(org: object) -> PulseProgram:
    async with org.app.db.session() as session:  # type: ignore[attr-defined]
        return (await session.exec(select(PulseProgram))).one()


async def test_admin_edits_the_program_in_chat(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        status, body = await org.say("adam", "admin")
        assert status == 200
        form = body["messages"][0]
        assert form["message"]["blocks"][0]["text"] == "Pulse program: Leadership team"
        status, body = await org.click(
            "adam",
            "admin.save",
            "leadership",
            message_id=form["id"],
            inputs={"weekday": "thu", "at": "10:15", "min_respondents": "4"},
        )
        assert status == 200, body
        assert body["notice"].startswith("Saved: update program safety: cadence")
        assert "thresholds" in body["notice"]
        program = await _program(org)
        assert (program.weekday, program.at, program.min_respondents) == (3, "10:15", 4)
        async with org.app.db.session() as session:
            audit = (
                await session.exec(
                    select(AuditEntry).where(AuditEntry.action == "config.update_program")
                )
            ).all()
        assert [a.actor for a in audit] == [f"person:{org.ids['adam']}"]


async def test_bad_or_locked_edits_are_refused_and_nothing_changes(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        cases = [
            ({"min_respondents": "2"}, "Minimum respondents (3 or more): "),
            ({"at": "25:00"}, "Local send time (HH:MM): '25:00' is not a time HH:MM"),
            ({"window_hours": "soon"}, "is not a whole number"),
            ({"weekday": "someday", "at": "10:00"}, "Weekday (mon … sun)"),
            (
                {"min_respondents": "5", "min_comments": "3"},
                "Minimum respondents for comments: must be at least the respondents "
                "threshold (5): comments from fewer people than scores need would show what "
                "the scores withhold",
            ),
        ]
        for inputs, reason in cases:
            status, body = await org.click("adam", "admin.save", "leadership", inputs=inputs)
            assert status == 409 and reason in body["error"], (inputs, body)
        status, body = await org.click("ana", "admin.save", "leadership", inputs={"at": "10:00"})
        assert status == 409 and "Only an admin" in body["error"]
        await org.say("adam", "pulse send leadership")
        status, body = await org.click(
            "adam", "admin.save", "leadership", inputs={"min_respondents": "5"}
        )
        assert status == 409 and "locked while round 1 is open" in body["error"]
        program = await _program(org)
        assert (program.weekday, program.at, program.min_respondents) == (0, "09:30", 3)


async def test_admin_previews_the_schedule_in_chat(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        status, body = await org.say("adam", "schedule leadership 7")
        assert status == 200
        lines = body["messages"][0]["message"]["blocks"][1]["lines"]
        assert len(lines) == 4 and all("Mon 30 Nov 09:30" in line for line in lines)
        status, body = await org.say("ana", "schedule leadership")
        assert status == 409


def test_cli_schedule_preview_json(tmp_path: Path) -> None:
    env = {"PULSECOACH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "bot.cli.main"]
    subprocess.run([*run, "apply", str(ORGANISATION)], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [*run, "schedule", "preview", "leadership", "--days", "7", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    rows = json.loads(out.stdout)
    assert {r["person"] for r in rows} == {"maya", "oliver", "priya", "daniel", "weiling", "chloe"}
    assert all(r["local"][11:16] == "09:30" for r in rows)
    bad = subprocess.run(
        [*run, "schedule", "preview", "nope"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "There is no team 'nope'" in bad.stderr


async def test_admin_sends_now_and_test_sends_from_the_form(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        status, body = await org.click("adam", "admin.test", "leadership")
        assert status == 200 and "test pulse" in body["notice"]
        status, body = await org.click("adam", "admin.send", "leadership")
        assert status == 200 and "Pulse sent to 4 people" in body["notice"]
        status, body = await org.click("ana", "admin.send", "leadership")
        assert status == 409 and "Only an admin" in body["error"]
