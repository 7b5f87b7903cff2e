"""A contract check in Teams, through /api/messages and the Connector stand-in (#13):
the card shows the norms and progress, its Rate button asks for a dialog (task/fetch)
read from the open check, the dialog's submission (task/submit) stores every rating and
the comment, and no version of any card holds a rating or the comment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.clock import FakeClock
from tests.support.contracts import answers_of, open_contract_check
from tests.support.teams.helpers import (
    TeamsOrg,
    actions,
    conversation,
    dialog_card,
    fields,
    teams_org,
)
from tests.teams.test_endpoint import every_version

COMMENT = "We agree in the room and undo it by email."


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, no_env: None):
    async with teams_org(tmp_path, clock) as running:
        yield running


def check_card(org: TeamsOrg, handle: str) -> tuple[str, dict[str, Any]]:
    """The check's card in the person's chat, as last updated: its id and card."""
    [sent] = [
        s
        for s in org.standin.to(conversation(handle))
        if s.card and "Contract check" in json.dumps(s.card)
    ]
    assert sent.card is not None
    return sent.id, sent.card


async def open_dialog(org: TeamsOrg, handle: str) -> dict[str, Any]:
    card_id, card = check_card(org, handle)
    [opener] = [a for a in actions(card) if a["data"].get("pc") == "contract.open"]
    assert opener["data"]["msteams"] == {"type": "task/fetch"}
    response = await org.open_dialog(handle, card_id, opener)
    assert response.status == 200
    return dialog_card(await response.json())


def ratings(dialog: dict[str, Any]) -> dict[str, Any]:
    return {k: f.get("value") for k, f in fields(dialog).items() if f["type"] == "Input.ChoiceSet"}


async def test_a_contract_check_is_rated_in_a_dialog(org: TeamsOrg) -> None:
    for handle in ("ana", "ben"):
        await org.install(handle)
    check = await open_contract_check(org.app, org.ids["team"])
    _, card = check_card(org, "ana")
    assert not any(b["type"].startswith("Input.") for b in card["body"])

    dialog = await open_dialog(org, "ana")
    first, second = check.norm_keys
    assert list(ratings(dialog)) == [first, second] and not any(ratings(dialog).values())
    response = await org.submit_dialog("ana", dialog, **{first: "4", second: "1"}, comment=COMMENT)
    assert response.status == 200 and await response.read() == b""  # the dialog closes
    assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == (
        {first: 4, second: 1},
        COMMENT,
        True,
    )
    _, card = check_card(org, "ana")
    assert "all rated" in json.dumps(card)
    reopened = await open_dialog(org, "ana")
    assert ratings(reopened) == {first: "4", second: "1"}
    assert fields(reopened)["comment"]["value"] == COMMENT

    ben = await open_dialog(org, "ben")
    await org.submit_dialog("ben", ben, **{first: "1", second: "4"})
    assert check_card(org, "ben")[1] == check_card(org, "ana")[1]  # the same card, byte for byte
    assert "undo it by email" not in every_version(org)
    assert "Input." not in every_version(org)


async def test_a_wrong_dialog_says_why_and_stores_nothing(org: TeamsOrg) -> None:
    await org.install("ana")
    check = await open_contract_check(org.app, org.ids["team"])
    dialog = await open_dialog(org, "ana")
    first = check.norm_keys[0]
    for inputs, says in (
        ({first: "7"}, "7 is outside the scale"),
        ({"not_a_norm": "3"}, "not a norm of this check"),
        ({"comment": "x" * 1001}, "at most 1000"),
        ({"comment": " "}, "Choose a rating or write a comment"),
    ):
        response = await org.submit_dialog("ana", dialog, **inputs)
        assert says in dialog_card(await response.json())["body"][0]["text"], inputs
    assert await answers_of(org.app, check.id or 0, org.ids["ana"]) == ({}, None, False)
    assert not [s for s in org.standin.to(conversation("ana")) if s.updates]  # no card changed
