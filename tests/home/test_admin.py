"""Admins configure the pulse program in chat, with the config file's validation,
locks and audit; and see the planned schedule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from bot.demo.load import ORGANISATION
from storage.core.models import AuditEntry, Workspace
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
        assert body["notice"] == (
            "Saved (day, send time, minimum respondents). Next pulse: Thursday 26 Nov, 10:15 "
            "in each person's time zone, open 72 h, every week. Answers are anonymous; "
            "results show from 4 respondents; only the coach sees the results."
        )
        # The form is one control per setting: selects for fixed choices, numbers for counts.
        [updated] = [m for m in body["messages"] if m["id"] == form["id"]]
        inputs = {b["input_id"]: b for b in updated["message"]["blocks"] if b["type"] == "input"}
        assert not [b for b in updated["message"]["blocks"] if b["type"] == "fields"]
        assert [o["value"] for o in inputs["weekday"]["options"]][:2] == ["mon", "tue"]
        assert inputs["weekday"]["value"] == "thu"
        assert [o["label"] for o in inputs["privacy"]["options"]] == ["Anonymous", "Confidential"]
        assert inputs["min_respondents"]["kind"] == "number"
        assert (
            inputs["window_hours"]["kind"] == "number" and inputs["window_hours"]["value"] == "72"
        )
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
        status, body = await org.say("adam", "admin")
        form = body["messages"][0]
        # Every wrong value at once, each beside its field; nothing is stored.
        wrong = {
            "min_respondents": "2",
            "at": "25:00",
            "window_hours": "soon",
            "weekday": "someday",
        }
        status, body = await org.click(
            "adam", "admin.save", "leadership", message_id=form["id"], inputs=wrong
        )
        assert status == 409 and body["refused"] is True
        assert set(body["errors"]) == set(wrong)
        assert (
            "Minimum respondents before results show (3 or more): "
            in body["errors"]["min_respondents"]
        )
        assert "'25:00' is not a time HH:MM" in body["errors"]["at"]
        assert "“soon” is not a whole number" in body["errors"]["window_hours"]
        assert "“someday” is not one of the choices (Monday, Tuesday" in body["errors"]["weekday"]
        [shown] = body["messages"]
        assert shown["id"] == form["id"] and shown["version"] == 2  # the form, in place
        beside = {
            b["input_id"]: (b["value"], b["error"])
            for b in shown["message"]["blocks"]
            if b["type"] == "input"
        }
        assert beside["at"] == ("25:00", body["errors"]["at"])
        assert beside["privacy"] == ("anonymous", None)
        # The comment threshold is never below the respondent threshold.
        status, body = await org.click(
            "adam",
            "admin.save",
            "leadership",
            message_id=form["id"],
            inputs={"min_respondents": "5", "min_comments": "3"},
        )
        assert status == 409 and "must be at least the respondents threshold" in json.dumps(body)
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


async def test_admin_sets_the_workspace_retention_period_in_chat(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        status, body = await org.say("adam", "admin")
        form = body["messages"][0]
        inputs = {b["input_id"]: b for b in form["message"]["blocks"] if b["type"] == "input"}
        assert inputs["retention_months"]["kind"] == "number"
        assert inputs["retention_months"]["value"] == "24"
        # Shorter than the program's 72 h window: refused beside the field, nothing stored.
        status, body = await org.click(
            "adam",
            "admin.save",
            "leadership",
            message_id=form["id"],
            inputs={"retention_months": "0", "weekday": "thu"},
        )
        assert status == 409 and set(body["errors"]) == {"retention_months"}
        assert body["errors"]["retention_months"].endswith(
            "0 months (0 days) is shorter than the answer window of pulse program 'safety' of "
            "team 'leadership' (72 h, 3 days): set at least 1 month, or shorten or end that window "
            "first"
        )
        [shown] = body["messages"]
        beside = {
            b["input_id"]: (b["value"], b["error"])
            for b in shown["message"]["blocks"]
            if b["type"] == "input"
        }
        assert beside["retention_months"] == ("0", body["errors"]["retention_months"])
        async with org.app.db.session() as session:
            workspace = (await session.exec(select(Workspace))).one()
        assert workspace.retention_months == 24 and (await _program(org)).weekday == 0

        status, body = await org.click(
            "adam",
            "admin.save",
            "leadership",
            message_id=form["id"],
            inputs={"retention_months": "36"},
        )
        assert status == 200, body
        assert body["notice"].endswith(
            "Raw answers, comments, reflections, chats and digest texts in this workspace are "
            "removed after 36 months; the figures stay."
        )
        async with org.app.db.session() as session:
            workspace = (await session.exec(select(Workspace))).one()
            [audit] = (
                await session.exec(
                    select(AuditEntry).where(AuditEntry.action == "config.update_workspace")
                )
            ).all()
        assert workspace.retention_months == 36
        assert audit.actor == f"person:{org.ids['adam']}"
        status, body = await org.say("adam", "home")
        fields = [
            (f["label"], f["value"])
            for m in body["messages"]
            for b in m["message"]["blocks"]
            if b["type"] == "fields"
            for f in b["fields"]
        ]
        assert ("Raw data kept (workspace)", "36 months") in fields
        assert audit.detail == {"changed": {"retention_months": [24, 36]}}
