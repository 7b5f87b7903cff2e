"""Pulse surveys end to end through the local channel's API."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from pathlib import Path

from sqlalchemy import inspect, text
from sqlmodel import select

from handlers.pulse.close import close_due_rounds, close_team_round
from handlers.pulse.results import team_results
from handlers.pulse.rounds import open_round, rotation
from storage.core.models import OutboxMessage
from storage.pulse.models import (
    PulseAnswer,
    PulseInvite,
    PulseOpenAnswer,
    PulseOpenComment,
    PulseParticipant,
    PulseRound,
)
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import ITEMS, Org, running_org


async def _open(org: Org) -> int:
    opened = await open_round(org.app.services, "leadership")
    await org.app.sender.drain()
    return opened.round_id


async def _answer_all(org: Org, handle: str, round_id: int, scores: list[int]) -> None:
    for item, score in zip(ITEMS, scores, strict=True):
        status, body = await org.click(handle, "pulse.answer", f"{round_id}:{item}:{score}")
        assert status == 200, body


async def _answers(org: Org) -> list[PulseAnswer | PulseOpenAnswer]:
    """Every answer stored: of open rounds (held apart) and of closed ones."""
    async with org.app.db.session() as session:
        held = list((await session.exec(select(PulseOpenAnswer))).all())
        return [*held, *(await session.exec(select(PulseAnswer))).all()]


async def test_each_executive_gets_one_short_message_and_answers_in_a_private_form(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        for handle in ("ana", "ben", "chloe", "dev"):
            message = await org.pulse_message(handle)
            blocks = message["message"]["blocks"]
            assert blocks[0]["text"] == "Pulse check-in: Leadership team"
            # A short prompt: no question rows in the kept message, one Answer button.
            assert [b["type"] for b in blocks] == ["text", "text", "buttons", "context"]
            assert blocks[2]["buttons"][0]["label"] == "Answer"
        assert [m for m in await org.messages("cora") if m["ref"].startswith("pulse:")] == []

        before = await org.pulse_message("ana")
        status, body = await org.click("ana", "pulse.open", str(round_id), message_id=before["id"])
        assert status == 200 and body["messages"] == []
        form = body["form"]
        assert form["action_id"] == "pulse.submit" and form["value"] == str(round_id)
        assert [b["input_id"] for b in form["blocks"] if b["type"] == "question"] == ITEMS
        choices = {ITEMS[0]: "2", "raise_tough_issues": "6", "comment": "Short one."}
        status, body = await org.click(
            "ana", "pulse.submit", str(round_id), message_id=before["id"], inputs=choices
        )
        assert status == 200 and body["notice"] is None
        after = await org.pulse_message("ana")
        assert after["id"] == before["id"] and after["version"] == before["version"] + 1
        assert "2 of 7 answered" in after["message"]["text"]
        assert "Continue answering" in str(after["message"])
        # The kept message holds no value and no comment; the private form does.
        assert '"selected"' not in str(after) and "Short one" not in str(after)
        _, body = await org.click("ana", "pulse.open", str(round_id), message_id=before["id"])
        questions = [b for b in body["form"]["blocks"] if b["type"] == "question"]
        assert [q["selected"] for q in questions] == ["2", "6", None, None, None, None, None]
        box = next(b for b in body["form"]["blocks"] if b["type"] == "input")
        assert box["value"] == "Short one." and box["max_length"] == 1000
        assert "Your comment is saved (10 of 1000 characters)." in str(body["form"])
        # Ben's copy and Ben's form show nothing of Ana's answers.
        ben = await org.pulse_message("ben")
        assert ben["version"] == 1 and "answered" not in ben["message"]["text"]
        _, body = await org.click("ben", "pulse.open", str(round_id))
        assert all(b.get("selected") is None for b in body["form"]["blocks"])
        assert all(b.get("value", "") == "" for b in body["form"]["blocks"] if b["type"] == "input")
        # The form is never stored: no message in anyone's history holds a question or
        # a text box.
        for handle in ("ana", "ben"):
            kinds = {b["type"] for m in await org.messages(handle) for b in m["message"]["blocks"]}
            assert not kinds & {"question", "input"}


async def test_bad_answers_are_refused_and_store_nothing(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        cases = [
            ("ana", f"{round_id}:raise_tough_issues:8", "from 1 to 7"),
            ("ana", f"{round_id}:raise_tough_issues:0", "from 1 to 7"),
            ("ana", f"{round_id}:not_an_item:4", "not part of this pulse"),
            ("ana", "garbage", "could not be read"),
            ("cora", f"{round_id}:raise_tough_issues:4", "not sent to you"),  # forged: not invited
            ("ana", f"{round_id + 99}:raise_tough_issues:4", "not sent to you"),  # another round
        ]
        for handle, value, reason in cases:
            status, body = await org.click(handle, "pulse.answer", value)
            assert status == 409, (value, body)
            assert reason in body["error"]
        assert await _answers(org) == []


async def test_late_click_after_close_is_refused_politely(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        await close_team_round(org.app.services, "leadership")
        status, body = await org.click("ana", "pulse.answer", f"{round_id}:raise_tough_issues:4")
        assert status == 409 and "This pulse has closed" in body["error"]
        status, body = await org.click(
            "ana", "pulse.submit", str(round_id), inputs={"comment": "late"}
        )
        assert status == 409 and "This pulse has closed" in body["error"]
        assert await _answers(org) == []


async def test_rounds_close_by_themselves_when_the_window_ends(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        await _open(org)
        clock.advance(timedelta(hours=71))
        assert await close_due_rounds(org.app.services) == []
        clock.advance(timedelta(hours=1))
        closed = await close_due_rounds(org.app.services)
        assert [c.team for c in closed] == ["leadership"]


async def test_anonymous_round_leaves_nothing_that_links_answers_to_people(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        async with org.app.db.session() as session:
            key = (await session.exec(text("SELECT key FROM pulse_round_key"))).one()[0]  # type: ignore[call-overload]
        for handle, scores in (
            ("ana", [1, 7, 2, 6, 1, 7, 6]),
            ("ben", [3, 5, 3, 5, 3, 5, 5]),
            ("chloe", [2, 6, 2, 6, 2, 6, 6]),
        ):
            await _answer_all(org, handle, round_id, scores)
        await org.click(
            "ana",
            "pulse.submit",
            str(round_id),
            inputs={"comment": "We should argue more openly."},
        )
        await close_team_round(org.app.services, "leadership")
        await org.app.sender.drain()

        async with org.app.db.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            columns = {
                t: [
                    c["name"]
                    for c in await connection.run_sync(lambda c, t=t: inspect(c).get_columns(t))
                ]
                for t in ("pulse_answer", "pulse_comment")
            }
            keys = (await connection.execute(text("SELECT count(*) FROM pulse_round_key"))).scalar()
            answers = (await connection.execute(text("SELECT respondent FROM pulse_answer"))).all()
            dumps = [
                str(row)
                for t in tables
                for row in (await connection.execute(text(f"SELECT * FROM {t}"))).all()
            ]
        assert keys == 0
        assert columns == {
            "pulse_answer": ["id", "round_id", "respondent", "item_key", "score"],
            "pulse_comment": ["id", "round_id", "respondent", "text"],
        }
        # The old key would link tokens to people; it is gone from every table.
        assert not any(key in dump for dump in dumps)
        person_ids = [org.ids[h] for h in ("ana", "ben", "chloe", "dev")]
        tokens = {r[0] for r in answers}
        assert len(tokens) == 3 and not any(
            str(p) == t or f"person-{p}" == t for p in person_ids for t in tokens
        )
        recomputed = {
            hmac.new(bytes.fromhex(key), f"{round_id}:{p}".encode(), hashlib.sha256).hexdigest()[
                :40
            ]
            for p in person_ids
        }
        # Sealed under fresh random tokens: not even the destroyed key recomputes them.
        assert not tokens & recomputed
        async with org.app.db.engine.connect() as connection:
            comment_tokens = {
                r[0]
                for r in (await connection.execute(text("SELECT respondent FROM pulse_comment")))
            }
            held = (
                await connection.execute(text("SELECT count(*) FROM pulse_open_answer"))
            ).scalar()
        assert len(comment_tokens) == 1 and not comment_tokens & tokens and held == 0
        # Nobody's chat copy keeps their selections once the round closed.
        assert not any('"selected": "' in d or "'selected': '" in d for d in dumps)


async def test_confidential_mode_links_but_results_stay_aggregate(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock, privacy="confidential") as org:
        round_id = await _open(org)
        await _answer_all(org, "ana", round_id, [4] * 7)
        tokens = {a.respondent for a in await _answers(org)}
        assert tokens == {f"person-{org.ids['ana']}"}
        await close_team_round(org.app.services, "leadership")
        results = await team_results(org.app.services, "leadership")
        assert results.latest is not None and results.latest.summary.overall is None  # 1 < 3


async def test_threshold_boundary_two_hidden_three_shown(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        first = await _open(org)
        await _answer_all(org, "ana", first, [4] * 7)
        await _answer_all(org, "ben", first, [4] * 7)
        await close_team_round(org.app.services, "leadership")
        second = await _open(org)
        for handle in ("ana", "ben", "chloe"):
            await _answer_all(org, handle, second, [4] * 7)
        await close_team_round(org.app.services, "leadership")
        results = await team_results(org.app.services, "leadership")
        hidden, shown = results.rounds
        assert (
            hidden.summary.overall is None
            and hidden.summary.withheld == "2 respondents; results show from 3"
        )
        assert shown.summary.overall is not None and shown.summary.respondents == 3
        # Comments need 5 respondents.
        assert shown.comments is None and "comments show from 5" in (shown.comments_withheld or "")
        # The coach asks in chat and sees the same, the executive may not.
        status, body = await org.say("cora", "results")
        assert (
            status == 200
            and "Pulse results: Leadership team"
            in body["messages"][0]["message"]["blocks"][0]["text"]
        )
        status, body = await org.say("ana", "results")
        assert status == 409 and "coach only" in body["error"]


async def test_scores_match_a_hand_computed_example_with_reverse_items(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        # Items 1, 3, 5 are reversed: r = 8 - score.
        # ana   1 7 2 6 1 7 6 -> scored 7 7 6 6 7 7 6 = 46
        # ben   3 5 3 5 3 5 5 -> scored 5 5 5 5 5 5 5 = 35
        # chloe 7 1 7 1 7 1 1 -> scored 1 1 1 1 1 1 1 = 7
        # mean = 88 / 21 = 4.1905; percent of max = (4.1905 - 1) / 6 * 100 = 53.17
        # favorable (scored >= 6): ana 7 of 7 -> 7 / 21 = 33.3 %
        for handle, scores in (
            ("ana", [1, 7, 2, 6, 1, 7, 6]),
            ("ben", [3, 5, 3, 5, 3, 5, 5]),
            ("chloe", [7, 1, 7, 1, 7, 1, 1]),
        ):
            await _answer_all(org, handle, round_id, scores)
        await close_team_round(org.app.services, "leadership")
        overall = (await team_results(org.app.services, "leadership")).rounds[0].summary.overall
        assert overall is not None
        assert round(overall.mean, 4) == round(88 / 21, 4)
        assert round(overall.percent_of_max, 2) == 53.17
        assert round(overall.percent_favorable, 1) == 33.3
        # 3 respondents: the spread is withheld under the comment threshold (5).
        assert overall.distribution == {}


async def test_reminders_go_only_to_people_who_have_not_answered(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        await org.click("ana", "pulse.answer", f"{round_id}:raise_tough_issues:5")
        await org.click("ben", "pulse.skip", str(round_id))
        for _ in range(72):  # the sender runs through the window; stale nudges would expire
            clock.advance(timedelta(hours=1))
            await org.app.sender.drain()
        reminded = {
            h
            for h in ("ana", "ben", "chloe", "dev")
            if any(":reminder:" in m["ref"] for m in await org.messages(h))
        }
        assert reminded == {"chloe", "dev"}
        assert len([m for m in await org.messages("chloe") if ":reminder:" in m["ref"]]) == 2


async def test_three_unanswered_rounds_pause_a_person_with_an_offer_to_come_back(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        for _ in range(3):
            round_id = await _open(org)
            for handle in ("ana", "ben", "chloe"):
                await org.click(
                    handle, "pulse.answer", f"{round_id}:{(await _round_items(org, round_id))[0]}:4"
                )
            closed = await close_team_round(org.app.services, "leadership")
            clock.advance(timedelta(days=7))
        assert closed.paused == ["dev"]
        await org.app.sender.drain()
        offer = [m for m in await org.messages("dev") if m["ref"].startswith("pulse-paused:")]
        assert offer and "Resume pulses" in str(offer[0]["message"])
        opened = await open_round(org.app.services, "leadership")
        assert "dev" not in opened.invited and "paused" in opened.left_out["dev"]
        await close_team_round(org.app.services, "leadership")
        status, _ = await org.click(
            "dev", "pulse.resume", str(org.ids["program"]), message_id=offer[0]["id"]
        )
        assert status == 200
        async with org.app.db.session() as session:
            state = (
                await session.exec(
                    select(PulseParticipant).where(PulseParticipant.person_id == org.ids["dev"])
                )
            ).one()
        assert state.paused_at is None
        assert "dev" in (await open_round(org.app.services, "leadership")).invited


async def _round_items(org: Org, round_id: int) -> list[str]:
    async with org.app.db.session() as session:
        round_ = await session.get(PulseRound, round_id)
        assert round_ is not None
        return round_.item_keys


async def test_rotation_asks_every_item_within_k_rounds() -> None:
    seen: set[str] = set()
    for number in range(1, 4):  # 7 items, 3 per pulse -> K = 3
        seen |= set(rotation(ITEMS, 3, number))
    assert seen == set(ITEMS)
    assert rotation(ITEMS, None, 5) == ITEMS


async def test_snooze_and_comment_and_admin_send_now_in_chat(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        status, body = await org.say("ana", "pulse send leadership")
        assert status == 409 and "Only an admin" in body["error"]
        status, body = await org.say("adam", "pulse send leadership")
        assert status == 200 and "Pulse sent to 4 people" in body["notice"]
        await org.app.sender.drain()
        round_id = int((await org.pulse_message("ana"))["ref"].split(":")[1])
        status, body = await org.click(
            "ana", "pulse.submit", str(round_id), inputs={"comment": "  "}
        )
        assert status == 409 and "write a comment" in body["error"]
        status, body = await org.click(
            "ana", "pulse.submit", str(round_id), inputs={"comment": "More candour please"}
        )
        # No per-person "saved" notice in the chat: the form says it when reopened.
        assert status == 200 and body["notice"] is None
        status, body = await org.click("ben", "pulse.snooze", str(round_id))
        assert status == 200 and "Snoozed" in body["messages"][0]["message"]["text"]
        async with org.app.db.session() as session:
            comments = (await session.exec(select(PulseOpenComment))).all()
            invites = {i.person_id: i for i in (await session.exec(select(PulseInvite))).all()}
            pending = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending"))
            ).all()
        assert [c.text for c in comments] == ["More candour please"]
        assert invites[org.ids["ben"]].skipped
        assert not any(f"remind:{org.ids['ben']}:" in m.dedupe_key for m in pending)
        # The admin's test-send goes to the admin alone and never counts.
        status, body = await org.say("adam", "pulse test leadership")
        assert status == 200 and "test pulse" in body["notice"]
