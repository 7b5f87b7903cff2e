"""A contract check answered through the local chat's API (#13): the kept message
shows the norms and progress only, the ratings and the comment live in a private form
read from the open check, saved at once or refused whole, and no stored message
holds a rating or a comment, in anonymous and confidential checks alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.clock import FakeClock
from tests.support.contracts import (
    NORMS,
    answers_of,
    kept,
    latest,
    open_contract_check,
    open_form,
    questions,
    texts,
)
from tests.support.pulse_fixtures import running_org

COMMENT = "We nod in the meeting and grumble in the corridor."


def _buttons(message: dict[str, object]) -> dict[str, str]:
    blocks = message["message"]["blocks"]  # type: ignore[index]
    return {
        b["action_id"]: b["label"]
        for block in blocks
        if block["type"] == "buttons"
        for b in block["buttons"]
    }


@pytest.mark.parametrize("privacy", ["anonymous", "confidential"])
async def test_ratings_and_comment_live_in_the_private_form_only(
    tmp_path: Path, clock: FakeClock, privacy: str
) -> None:
    async with running_org(tmp_path, clock) as org:
        check = await open_contract_check(org.app, org.ids["team"], privacy)
        asked = [n for n in NORMS[: len(check.norm_keys)]]
        message = latest(await org.messages("ana"), "contract-check:")
        shown = texts(message)
        assert all(norm in shown for norm in asked) and "closes" in shown
        kinds = {b["type"] for b in message["message"]["blocks"]}
        assert kinds == {"text", "buttons", "context"}  # no scale, no comment box
        assert _buttons(message) == {"contract.open": "Rate", "contract.skip": "Skip this one"}

        message, form = await open_form(org, "ana")
        fields = questions(form)
        assert list(fields) == check.norm_keys
        assert all(q["selected"] is None for q in fields.values())
        assert "Comments: up to 1000 characters." in str(form["blocks"])
        first, second = check.norm_keys
        status, body = await org.click(
            "ana",
            "contract.submit",
            form["value"],
            message_id=message["id"],
            inputs={first: "2", second: "", "comment": f"  {COMMENT} "},
        )
        assert status == 200 and body["notice"] is None, body
        assert "1 of 2 rated" in texts(body["messages"][0])
        assert _buttons(body["messages"][0])["contract.open"] == "Continue rating"
        assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == (
            {first: 2},
            COMMENT,
            True,
        )

        # Reopened: her own ratings and comment, for her alone; changed, not added.
        _, form = await open_form(org, "ana")
        assert questions(form)[first]["selected"] == "2"
        [box] = [b for b in form["blocks"] if b["type"] == "input"]
        assert box["value"] == COMMENT and box["max_length"] == 1000
        assert "Your comment is saved" in str(form["blocks"])
        status, body = await org.click(
            "ana",
            "contract.submit",
            form["value"],
            message_id=message["id"],
            inputs={first: "5", second: "4", "comment": COMMENT},
        )
        assert status == 200, body
        done = body["messages"][0]
        assert (
            "all rated" in texts(done) and _buttons(done)["contract.open"] == "Change your ratings"
        )
        mine, comment, answered = await answers_of(org.app, check.id or 0, org.ids["ana"])
        assert (mine, comment, answered) == ({first: 5, second: 4}, COMMENT, True)

        # Ben rates everything differently: his kept message is hers, byte for byte.
        _, ben_form = await open_form(org, "ben")
        status, body = await org.click(
            "ben",
            "contract.submit",
            ben_form["value"],
            message_id=latest(await org.messages("ben"), "contract-check:")["id"],
            inputs={first: "1", second: "1"},
        )
        assert status == 200 and body["messages"][0]["message"] == done["message"]

        stored = await kept(org.app)
        assert "corridor" not in stored and '"selected"' not in stored
        assert '"question"' not in stored and '"input"' not in stored


async def test_a_wrong_form_is_refused_whole_and_stores_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        check = await open_contract_check(org.app, org.ids["team"])
        first, second = check.norm_keys
        value = str(check.id)
        cases = [
            ({first: "6"}, "Ratings go from 1 to 5; 6 is outside the scale"),
            ({first: "0", second: "3"}, "0 is outside the scale"),
            ({first: "four"}, "could not be read"),
            ({"not_a_norm": "3", first: "3"}, "'not_a_norm', which is not a norm of this check"),
            ({first: "3", "comment": "x" * 1001}, "at most 1000 characters; yours has 1001"),
            ({first: "", "comment": "   "}, "Choose a rating or write a comment"),
            ({}, "Choose a rating or write a comment"),
        ]
        for inputs, reason in cases:
            status, body = await org.click("ana", "contract.submit", value, inputs=inputs)
            assert status == 409 and reason in body["error"], (inputs, body)
        assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == ({}, None, False)
        for action in ("contract.open", "contract.submit"):
            status, body = await org.click("cora", action, value, inputs={first: "3"})
            assert status == 409 and "not sent to you" in body["error"]

        # The limit itself is kept whole; an emptied box withdraws a saved comment.
        status, _ = await org.click("ana", "contract.submit", value, inputs={"comment": "soon"})
        assert status == 200
        status, body = await org.click(
            "ana", "contract.submit", value, inputs={first: "4", "comment": ""}
        )
        assert status == 200, body
        assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == ({first: 4}, None, True)
        exactly = "z" * 1000
        status, _ = await org.click("ana", "contract.submit", value, inputs={"comment": exactly})
        assert status == 200
        status, _ = await org.click("ana", "contract.submit", value, inputs={first: "4"})
        assert status == 200  # a form without the box keeps the comment
        assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == (
            {first: 4},
            exactly,
            True,
        )

        status, body = await org.say("cora", "contract close")
        assert status == 200, body
        for action in ("contract.open", "contract.submit"):
            status, body = await org.click("ana", action, value, inputs={first: "3"})
            assert status == 409 and "has closed" in body["error"]
        assert exactly not in await kept(org.app)


async def test_a_form_racing_the_close_is_refused_and_marks_nothing(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check closed between the handler's read and its write (storage then stores
    nothing and says so): the person is told it closed, and the invite is not marked
    answered for an answer that was not kept."""
    from handlers.contracts import checks

    async def closed_meanwhile(*_: object) -> bool:
        return False

    async with running_org(tmp_path, clock) as org:
        check = await open_contract_check(org.app, org.ids["team"])
        first, _ = check.norm_keys
        monkeypatch.setattr(checks.contracts, "save_rating", closed_meanwhile)
        status, body = await org.click("ana", "contract.submit", str(check.id), inputs={first: "3"})
        assert status == 409 and "has closed" in body["error"]
        status, body = await org.click("ana", "contract.rate", f"{check.id}:{first}:3")
        assert status == 409 and "has closed" in body["error"]
        assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == ({}, None, False)


async def test_stale_scale_and_comment_clicks_are_stored_and_redrawn_without_values(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Check messages sent before the private form had a scale per norm and a comment
    box: their clicks still count, and the message they update loses its values."""
    async with running_org(tmp_path, clock) as org:
        check = await open_contract_check(org.app, org.ids["team"])
        first = check.norm_keys[0]
        status, body = await org.click("ana", "contract.rate", f"{check.id}:{first}:3")
        assert status == 200, body
        [redrawn] = [m for m in body["messages"] if m["ref"] == f"contract-check:{check.id}"]
        assert "1 of 2 rated" in texts(redrawn) and '"selected"' not in str(redrawn)
        status, body = await org.click("ana", "contract.rate", f"{check.id}:{first}:9")
        assert status == 409 and "9 is outside the scale" in body["error"]
        status, body = await org.click(
            "ana", "contract.comment", str(check.id), inputs={"comment": COMMENT}
        )
        assert status == 200 and "Comment saved" in body["notice"], body
        assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == (
            {first: 3},
            COMMENT,
            True,
        )
        assert "corridor" not in await kept(org.app)
