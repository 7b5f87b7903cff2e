"""`pulsecoach forget PERSON` (#13.5), through the real command line: a person's
personal data leaves every table (read raw afterwards) and the file; anonymous answers
stay; an unknown person is a clear error and removes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import make_url, text

from handlers.home.forget import forget
from handlers.pulse.close import close_team_round
from storage.commitments.models import Commitment, CommitmentCheckIn
from tests.pulse.test_pulse import _answer_all, _open
from tests.support.clock import FakeClock
from tests.support.contracts import open_contract_check, rate
from tests.support.pulse_fixtures import ITEMS, Org, running_org
from tests.support.raw_db import sqlite_files
from tests.support.retention import raw

REFLECTION = "I interrupted Ben twice in the budget review"
PERSON_TABLES = {
    "chat_address": "person_id",
    "local_message": "person_id",
    "outbox_message": "person_id",
    "pulse_invite": "person_id",
    "pulse_participant": "person_id",
    "membership": "person_id",
    "commitment": "person_id",
    "person": "id",
}


def _cli(org: Org, *args: str) -> subprocess.CompletedProcess[str]:
    url = make_url(org.app.db.url)
    env = {**os.environ, "PULSECOACH_DATABASE_URL": f"sqlite:///{url.database}"}
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli.main import main; raise SystemExit(main())", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _counts(org: Org) -> dict[str, int]:
    tables = [*PERSON_TABLES, "pulse_answer", "pulse_open_answer", "pulse_open_comment"]
    async with org.app.db.engine.connect() as connection:
        return {
            t: (await connection.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()
            for t in [*tables, "commitment_checkin", "audit_log"]
        }


async def test_forget_removes_a_persons_data_and_keeps_anonymous_answers(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        first = await _open(org)
        for handle in ("ana", "ben", "chloe"):
            await _answer_all(org, handle, first, [4] * 7)
        await close_team_round(org.app.services, "leadership")
        second = await _open(org)
        inputs = {ITEMS[0]: "6", "comment": "A comment while the round is open"}
        status, _ = await org.click("ana", "pulse.submit", str(second), inputs=inputs)
        assert status == 200
        async with org.app.db.session() as session:
            commitment = Commitment(
                person_id=org.ids["ana"],
                team_id=org.ids["team"],
                behaviour="Ask for dissent first",
                ends_on=date(2027, 3, 1),
                partner_id=org.ids["ben"],
            )
            session.add(commitment)
            await session.flush()
            session.add(
                CommitmentCheckIn(
                    commitment_id=commitment.id or 0, occurrence="2026-11-27", reflection=REFLECTION
                )
            )
        before = await _counts(org)

        unknown = _cli(org, "forget", "zed", "--yes")
        assert unknown.returncode == 1
        assert "No person with handle 'zed': nothing was removed" in unknown.stderr
        assert await _counts(org) == before

        done = _cli(org, "forget", "ana", "--yes")
        assert done.returncode == 0, done.stderr
        assert "commitment check-ins and reflections: 1" in done.stdout
        assert "answers in open rounds: 1" in done.stdout

        after = await _counts(org)
        ana = org.ids["ana"]
        async with org.app.db.engine.connect() as connection:
            for table, column in PERSON_TABLES.items():
                left = await connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :p"), {"p": ana}
                )
                assert left.scalar_one() == 0, table
            audit = (
                await connection.execute(
                    text(
                        "SELECT actor, target, detail FROM audit_log WHERE action = 'person.forget'"
                    )
                )
            ).one()
        assert after["pulse_answer"] == before["pulse_answer"] == 21  # anonymous: they stay
        assert after["pulse_open_answer"] == 0 and after["pulse_open_comment"] == 0
        assert after["commitment_checkin"] == 0
        assert audit[0] == "cli" and audit[1] == f"person:{ana}"
        detail = str(audit[2])
        assert "chat history" in detail and REFLECTION not in detail and "ana" not in detail
        files = sqlite_files(org.app.db)
        assert REFLECTION.encode() not in files["main"] + files["wal"]
        assert b"A comment while the round is open" not in files["main"] + files["wal"]


async def test_an_admin_forgets_in_chat_after_a_preview_and_a_confirmation(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        status, body = await org.say("ana", "forget ben")
        assert status == 409 and "Only an admin" in body["error"]
        status, body = await org.say("adam", "forget zed")
        assert status == 409 and "No person with handle 'zed': nothing was removed" in body["error"]
        status, body = await org.say("adam", "forget ben")
        assert status == 200
        preview = body["messages"][0]
        shown = str(preview["message"])
        assert "Forget ben? This removes:" in shown and "chat addresses: 1" in shown
        async with org.app.db.engine.connect() as connection:  # a preview removes nothing
            row = "SELECT count(*) FROM person WHERE id = :p"
            assert (await connection.execute(text(row), {"p": org.ids["ben"]})).scalar_one() == 1
        status, body = await org.click("adam", "admin.forget", "ben", message_id=preview["id"])
        assert status == 200 and "Forgot ben." in body["messages"][0]["message"]["text"]
        async with org.app.db.engine.connect() as connection:
            assert (await connection.execute(text(row), {"p": org.ids["ben"]})).scalar_one() == 0
            actor = (
                await connection.execute(
                    text("SELECT actor FROM audit_log WHERE action = 'person.forget'")
                )
            ).scalar_one()
        assert actor == f"person:{org.ids['adam']}"


async def test_forget_removes_their_answers_in_an_open_contract_check(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        await open_contract_check(org.app, org.ids["team"])
        await rate(org, "ana", 4, comment="Ana's words while the check is open")
        await rate(org, "ben", 2, comment="Ben's words while the check is open")
        done = await forget(org.app.services, "ana", "cli")
        assert done.counts["ratings in open contract checks"] == 2
        assert done.counts["comments in open contract checks"] == 1
        left = await raw(org.app, "SELECT text FROM contract_open_comment")
        assert left == [("Ben's words while the check is open",)]
        assert len(await raw(org.app, "SELECT score FROM contract_open_rating")) == 2
        files = sqlite_files(org.app.db)
        assert b"Ana's words" not in files["main"] + files["wal"]
