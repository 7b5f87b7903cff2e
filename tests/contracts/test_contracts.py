"""Team contracts end to end through the local channel's API: written in chat, versioned,
acknowledged, and checked anonymously under the thresholds, by hand and on the cadence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect
from sqlmodel import select

from handlers.commitments.follow_through import contract_comments, contract_results
from storage.contracts.models import (
    ContractAck,
    ContractCheck,
    ContractCheckKey,
    ContractOpenRating,
    ContractVersion,
)
from storage.core import schedule
from storage.core.models import OutboxMessage, Person
from tests.conftest import reset_postgres
from tests.support.clock import FakeClock
from tests.support.commitments import _run_until
from tests.support.contracts import NORMS, latest, rate, texts
from tests.support.pulse_fixtures import Org, running_org


async def _write_contract(org: Org, norms: list[str], handle: str = "cora") -> dict[str, Any]:
    status, body = await org.say(handle, "contract edit")
    assert status == 200, body
    form = body["messages"][-1]
    status, body = await org.click(
        handle,
        "contract.save",
        str(org.ids["team"]),
        message_id=form["id"],
        inputs={"norms": "\n".join(f"- {n}" for n in norms)},
    )
    assert status == 200, body
    await org.app.sender.drain()
    return body


async def _rows(org: Org, model: Any) -> list[Any]:
    async with org.app.db.session() as session:
        return list((await session.exec(select(model))).all())


async def test_contract_written_acknowledged_and_versioned(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        body = await _write_contract(org, NORMS)
        assert "Saved version 1" in body["messages"][0]["message"]["text"]  # the form, replaced
        [version] = await _rows(org, ContractVersion)
        assert [n["text"] for n in version.norms] == NORMS
        ask = latest(await org.messages("ana"), "contract:")
        assert "We ask for help early." in texts(ask)
        asked = {m.person_id for m in await _rows(org, OutboxMessage) if m.kind == "contract-ack"}
        assert asked == {org.ids[h] for h in ("ana", "ben", "chloe", "dev")}  # not coach, admin

        # Double clicks store one acknowledgement; the coach sees who has not.
        for extra in ({"message_id": ask["id"]}, {}):  # a click, then a stale retry
            status, body = await org.click("ana", "contract.ack", str(version.id), **extra)
            assert status == 200, body
        assert len(await _rows(org, ContractAck)) == 1
        status, body = await org.say("cora", "contract")
        roster = texts(body["messages"][-1])
        assert (
            "Acknowledged by 1 of 4" in roster and "Not yet acknowledged: Ben, Chloe, Dev" in roster
        )

        # Only executives acknowledge; only coaches and admins edit.
        status, body = await org.click("cora", "contract.ack", str(version.id))
        assert status == 409 and "Only the executives" in body["error"]
        status, body = await org.say("ana", 'contract set "We never disagree."')
        assert status == 409 and "Only a coach or admin" in body["error"]
        for bad, reason in [
            ([""], "at least one norm"),
            (["Same norm.", "same norm."], "repeats norm 1"),
            (["x" * 201], "keep each norm under 200"),
            ([f"Norm {n}" for n in range(11)], "at most 10 norms"),
        ]:
            status, body = await org.click(
                "cora", "contract.save", str(org.ids["team"]), inputs={"norms": "\n".join(bad)}
            )
            assert status == 409 and reason in body["error"], body
        assert len(await _rows(org, ContractVersion)) == 1

        # Editing creates version 2 and asks again; the old acknowledgement no longer counts.
        status, body = await org.say(
            "adam", f'contract set leadership "{NORMS[0]}" "We decide, then commit."'
        )
        assert status == 200 and "Saved version 2" in body["notice"], body
        await org.app.sender.drain()
        versions = sorted(await _rows(org, ContractVersion), key=lambda v: v.version)
        assert (
            versions[1].norms[0]["key"] == versions[0].norms[0]["key"]
        )  # unchanged norm, same key
        status, body = await org.click("ana", "contract.ack", str(version.id))
        assert status == 409 and "now version 2" in body["error"]
        status, body = await org.say("cora", "contract")
        assert "Acknowledged by 0 of 4" in texts(body["messages"][-1])
        ask = latest(await org.messages("ana"), "contract:")
        assert "We decide, then commit." in texts(ask)
        status, _ = await org.click(
            "ana", "contract.ack", str(versions[1].id), message_id=ask["id"]
        )
        assert status == 200
        status, body = await org.say("ana", "contract")
        assert "You acknowledged version 2" in texts(body["messages"][-1])


async def _check_loop(org: Org) -> None:
    await _write_contract(org, NORMS)
    status, body = await org.say("cora", "contract check")
    assert status == 200 and "sent to 4 people" in body["notice"], body
    await org.app.sender.drain()
    [check] = await _rows(org, ContractCheck)
    assert len(check.norm_keys) == 2  # one or two norms per check, rotated

    # Only two answer: the check closes with everything withheld.
    for handle, score in (("ana", 4), ("ben", 5)):
        await rate(org, handle, score)
        await rate(org, handle, score)  # a resent form stores one rating per norm
    first = check.norm_keys[0]
    for handle, inputs, reason in (
        ("cora", {first: "3"}, "not sent to you"),
        ("ana", {first: "6"}, "from 1 to 5"),
        ("ana", {"not_a_norm": "3"}, "'not_a_norm', which is not a norm of this check"),
    ):
        status, body = await org.click(handle, "contract.submit", str(check.id), inputs=inputs)
        assert status == 409 and reason in body["error"], body
    assert len(await _rows(org, ContractOpenRating)) == 4  # held apart while open
    status, body = await org.say("cora", "contract close")
    assert status == 200 and "2 of 4 answered" in body["notice"], body
    results = await contract_results(org.app.services, org.ids["team"])
    assert [r.mean for r in results] == [None, None]
    assert all("results show from 3" in (r.withheld or "") for r in results)
    status, body = await org.click("chloe", "contract.submit", str(check.id), inputs={first: "3"})
    assert status == 409 and "has closed" in body["error"]

    # The second check rotates to the next norms; three answer: shown, comments withheld.
    status, body = await org.say("cora", "contract check")
    assert status == 200, body
    await org.app.sender.drain()
    second = max(await _rows(org, ContractCheck), key=lambda c: c.number)
    assert second.norm_keys != check.norm_keys
    for handle, score in (("ana", 2), ("ben", 4), ("chloe", 5)):
        await rate(org, handle, score)
    status, body = await org.click(
        "dev", "contract.submit", f"{second.id}", inputs={"comment": "We still relitigate."}
    )
    assert status == 200, body
    status, body = await org.say("cora", "contract close")
    assert status == 200 and "4 of 4 answered" in body["notice"]  # a comment is an answer
    check_two = [
        r for r in await contract_results(org.app.services, org.ids["team"]) if r.check_number == 2
    ]
    assert [r.respondents for r in check_two] == [3, 3]
    assert check_two[0].mean == pytest.approx(11 / 3) and check_two[0].withheld is None
    assert check_two[0].percent_of_max == pytest.approx((11 / 3 - 1) / 4 * 100)
    [_, notes] = await contract_comments(org.app.services, org.ids["team"])
    assert notes.comments is None and "comments show from 5" in (notes.withheld or "")

    # Anonymity: keys are gone, ratings carry a token and no person, and the coach's
    # results message shows the aggregate only.
    assert await _rows(org, ContractCheckKey) == []
    async with org.app.db.session() as session:
        columns = await session.run_sync(
            lambda s: {c["name"] for c in inspect(s.connection()).get_columns("contract_rating")}
        )
    assert columns == {"id", "check_id", "respondent", "norm_key", "score"}
    await org.app.sender.drain()
    results_message = latest(await org.messages("cora"), "contract-results:")
    assert "3.7 of 5" in texts(results_message)
    closed = latest(await org.messages("ana"), "contract-check:")
    assert "closed" in texts(closed) and not [
        b for b in closed["message"]["blocks"] if b["type"] == "question"
    ]


async def test_contract_check_aggregated_under_the_thresholds(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        await _check_loop(org)


async def test_contract_check_on_postgres(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock, database_url=await reset_postgres()) as org:
        await _check_loop(org)


async def test_contract_checks_open_at_local_time_on_the_cadence_and_close_by_themselves(
    tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))  # Monday
    async with running_org(tmp_path, clock) as org:
        async with org.app.db.session() as session:
            for handle, zone in (("ana", "Asia/Singapore"), ("ben", "America/Los_Angeles")):
                person = await session.get(Person, org.ids[handle])
                assert person is not None
                person.timezone = zone
                session.add(person)
        await _write_contract(org, NORMS)  # default cadence: every other Wednesday 10:00
        await _run_until(org, datetime(2026, 12, 12, tzinfo=UTC))
        checks = sorted(await _rows(org, ContractCheck), key=lambda c: c.number)
        assert [(c.occurrence, c.status) for c in checks] == [
            ("2026-11-25", "closed"),  # closed by the dispatcher after its window
            ("2026-12-09", "open"),  # every other week
        ]
        assert checks[0].closed_at == checks[0].closes_at
        async with org.app.db.session() as session:
            invites = (
                await session.exec(
                    select(OutboxMessage).where(OutboxMessage.kind == "contract-check")
                )
            ).all()
        by_person = {m.person_id: m.not_before for m in invites if "check:1:" in m.dedupe_key}
        sgp = by_person[org.ids["ana"]].astimezone(ZoneInfo("Asia/Singapore"))
        lax = by_person[org.ids["ben"]].astimezone(ZoneInfo("America/Los_Angeles"))
        assert (sgp.weekday(), sgp.hour) == (2, 10) and (lax.weekday(), lax.hour) == (2, 10)


CONFIG = """
contracts:
  - workspace: acme
    team: leadership
    norms:
      - We disagree in the room, not after.
      - We ask for help early.
    checks: {frequency: weekly, weekday: thu, at: "11:00", norms_per_check: 1}
    thresholds: {respondents: 3, comments: 5}
commitments:
  - workspace: acme
    person: ana
    behaviour: ask for dissent before every decision
    stage: challenger
    until: 2027-02-26
    partner: ben
    partner_summary: true
"""


async def test_contracts_and_commitments_as_config(tmp_path: Path, clock: FakeClock) -> None:
    from handlers.config.apply import ConfigError, apply_text, export_config

    async with running_org(tmp_path, clock) as org:
        db = org.app.db
        report = await apply_text(db, CONFIG, filename="org.yaml")
        assert "contract of leadership: version 1 (2 norms)" in report.changes
        assert any(line.startswith("create commitment for ana") for line in report.changes)
        assert (await apply_text(db, CONFIG, filename="org.yaml")).changes == []
        assert len(await _rows(org, ContractVersion)) == 1
        asked = {m.person_id for m in await _rows(org, OutboxMessage) if m.kind == "contract-ack"}
        assert len(asked) == 4
        # The dispatcher plans both at its next pass, from its own clock.
        await org.app.dispatcher.run_once()
        async with db.session() as session:
            entries = {e.kind: e for e in await schedule.entries(session)}
        assert entries["contract"].occurrence == "2026-11-26"
        assert entries["commitment"].occurrence == "2026-11-27"

        edited = CONFIG.replace("We ask for help early.", "We ask for help before we are stuck.")
        report = await apply_text(db, edited, filename="org.yaml")
        assert report.changes == ["contract of leadership: version 2 (2 norms)"]
        exported = await export_config(db)
        assert "We ask for help before we are stuck." in exported and "partner: ben" in exported
        again = (await apply_text(db, exported, filename="export.yaml")).changes
        assert [line for line in again if "contract" in line or "commitment" in line] == []

        for bad, where in [
            (CONFIG.replace("partner: ben", "partner: zed"), "org.yaml:16: commitments[0].partner"),
            (CONFIG.replace("2027-02-26", "2026-01-05"), "end date 2026-01-05 is in the past"),
            (
                CONFIG.replace("We ask for help early.", "We disagree in the room, not after."),
                "repeats norm 1",
            ),
        ]:
            with pytest.raises(ConfigError) as error:
                await apply_text(db, bad, filename="org.yaml")
            assert where in str(error.value)
        assert len(await _rows(org, ContractVersion)) == 2
