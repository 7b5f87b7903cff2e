"""The private form: what it refuses, and comments saved once, changed or cleared."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from storage.pulse.models import PulseOpenComment
from tests.pulse.test_pulse import _answers, _open
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import ITEMS, running_org


async def test_the_private_form_checks_everything_and_stores_nothing_half(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        cases = [
            ({"raise_tough_issues": "9"}, "from 1 to 7"),
            ({"raise_tough_issues": "x"}, "could not be read"),
            ({"not_an_item": "3"}, "'not_an_item', which is not a question of this pulse"),
            ({"comment": "x" * 1001}, "at most 1000 characters; yours has 1001"),
            ({"comment": "   "}, "Choose an answer or write a comment"),
            ({ITEMS[0]: "4", "comment": "y" * 1001}, "at most 1000 characters"),
        ]
        for inputs, reason in cases:
            status, body = await org.click("ana", "pulse.submit", str(round_id), inputs=inputs)
            assert status == 409 and reason in body["error"], (inputs, body)
        assert await _answers(org) == []
        status, body = await org.click("cora", "pulse.open", str(round_id))
        assert status == 409 and "not sent to you" in body["error"]


async def test_a_resent_comment_is_stored_once_and_can_be_changed_or_cleared(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        for _ in range(2):
            status, _ = await org.click(
                "ana", "pulse.submit", str(round_id), inputs={"comment": "Same words."}
            )
            assert status == 200
        async with org.app.db.session() as session:
            held = (await session.exec(select(PulseOpenComment))).all()
        assert [c.text for c in held] == ["Same words."]
        exactly = "z" * 1000  # the limit itself is fine, and kept whole
        await org.click("ana", "pulse.submit", str(round_id), inputs={"comment": exactly})
        await org.click("ana", "pulse.submit", str(round_id), inputs={ITEMS[0]: "3"})
        async with org.app.db.session() as session:
            held = (await session.exec(select(PulseOpenComment))).all()
        assert [c.text for c in held] == [exactly]  # a form without the box keeps it
        await org.click("ana", "pulse.submit", str(round_id), inputs={"comment": ""})
        async with org.app.db.session() as session:
            assert (await session.exec(select(PulseOpenComment))).all() == []


async def test_double_clicks_and_retries_store_one_answer_and_changes_replace_it(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        for _ in range(3):
            assert (await org.click("ana", "pulse.answer", f"{round_id}:raise_tough_issues:5"))[
                0
            ] == 200
        assert [(a.item_key, a.score) for a in await _answers(org)] == [("raise_tough_issues", 5)]
        await org.click("ana", "pulse.answer", f"{round_id}:raise_tough_issues:2")
        assert [(a.item_key, a.score) for a in await _answers(org)] == [("raise_tough_issues", 2)]
