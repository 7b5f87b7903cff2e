"""Teams end to end: install activities and card actions POSTed to /api/messages on the
running app; our cards delivered by the real Bot Connector client (proactively through
the outbox, and in answer) to the Connector stand-in, which records them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from handlers.pulse.close import close_round
from handlers.pulse.rounds import open_round
from storage.core.models import ChatAddress, OutboxMessage
from storage.pulse.models import PulseAnswer, PulseComment, PulseOpenAnswer, PulseOpenComment
from tests.support.clock import FakeClock
from tests.support.teams.connector import TENANT
from tests.support.teams.helpers import (
    TeamsOrg,
    actions,
    conversation,
    dialog_card,
    fields,
    teams_org,
)


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, no_env: None):
    async with teams_org(tmp_path, clock) as running:
        yield running


async def address(org: TeamsOrg, handle: str) -> ChatAddress | None:
    async with org.app.db.session() as session:
        query = select(ChatAddress).where(
            ChatAddress.person_id == org.ids[handle], ChatAddress.channel == "teams"
        )
        return (await session.exec(query)).first()


async def count(org: TeamsOrg, table: Any) -> int:
    async with org.app.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def pulse_card(org: TeamsOrg, handle: str) -> tuple[str, dict[str, Any]]:
    """Install for `handle`, open a round, deliver it: the card's activity id and card."""
    await org.install(handle)
    await open_round(org.app.services, "leadership")
    await org.app.sender.drain()
    [sent] = [s for s in org.standin.to(conversation(handle)) if s.card]
    assert sent.card is not None
    return sent.id, sent.card


async def answers(org: TeamsOrg) -> int:
    """Answers stored, in open rounds and closed ones."""
    return await count(org, PulseOpenAnswer) + await count(org, PulseAnswer)


async def comments(org: TeamsOrg) -> list[str]:
    async with org.app.db.session() as session:
        found = (await session.exec(select(PulseOpenComment.text))).all()
        return [*found, *(await session.exec(select(PulseComment.text))).all()]


def answer_button(card: dict[str, Any]) -> dict[str, Any]:
    """The pulse card's Answer: it asks Teams for a dialog, it answers nothing itself."""
    [button] = [a for a in actions(card) if a["data"].get("pc") == "pulse.open"]
    assert button["data"]["msteams"] == {"type": "task/fetch"}
    return button


async def open_dialog(org: TeamsOrg, handle: str, card_id: str, card: dict[str, Any]) -> Any:
    response = await org.open_dialog(handle, card_id, answer_button(card))
    assert response.status == 200
    return dialog_card(await response.json())


def items(dialog: dict[str, Any]) -> list[str]:
    return [k for k, f in fields(dialog).items() if f["type"] == "Input.ChoiceSet"]


def every_version(org: TeamsOrg) -> str:
    """Every message the Connector was given, and every update of each, as JSON."""
    return json.dumps(
        [s.activity for s in org.standin.sent] + [u for s in org.standin.sent for u in s.updates]
    )


async def test_install_stores_the_conversation_reference(org: TeamsOrg) -> None:
    assert (await address(org, "ana")).address.get("reference") is None  # type: ignore[union-attr]
    response = await org.install("ana")
    assert response.status == 200
    stored = await address(org, "ana")
    assert stored is not None and stored.active
    reference = stored.address["reference"]
    assert reference["serviceUrl"] == org.standin.url
    assert reference["conversation"]["id"] == conversation("ana")
    assert reference["conversation"]["tenantId"] == TENANT
    assert stored.address["aad_object_id"] == "aad-ana"
    assert "activityId" not in reference  # else every message would rewrite it


async def test_the_bot_added_to_a_personal_chat_says_welcome(org: TeamsOrg) -> None:
    body = org.activity("ben", "conversationUpdate")
    body["membersAdded"] = [{"id": body["recipient"]["id"]}]
    assert (await org.post(body)).status == 200
    texts = org.standin.texts_to(conversation("ben"))
    assert texts and "pulsecoach" in texts[0]
    assert org.standin.cards_to(conversation("ben"))  # the help card with it
    assert (await address(org, "ben")).active  # type: ignore[union-attr]


async def test_someone_matched_by_email_on_first_contact(org: TeamsOrg) -> None:
    assert await address(org, "chloe") is None  # her config gives no Azure AD id
    await org.say("chloe", "help")
    stored = await address(org, "chloe")
    assert stored is not None and stored.address["aad_object_id"] == "aad-chloe"
    assert org.standin.cards_to(conversation("chloe"))
    lookups = [c for c in org.standin.calls if "/members/" in c[1]]
    await org.say("chloe", "help")
    assert [c for c in org.standin.calls if "/members/" in c[1]] == lookups  # once


async def test_an_unknown_person_gets_a_polite_answer_and_nothing_is_stored(
    org: TeamsOrg,
) -> None:
    before = await count(org, ChatAddress)
    await org.say("zed", "help")  # in the tenant, but not in the directory
    [answer] = org.standin.texts_to(conversation("zed"))
    assert "doesn't know you yet" in answer
    assert await count(org, ChatAddress) == before


async def test_pulse_delivered_proactively_answered_in_a_dialog_and_updated(
    org: TeamsOrg,
) -> None:
    card_id, card = await pulse_card(org, "ana")
    proactive = [c for c in org.standin.calls if c[0] == "POST"]
    assert proactive[-1][1] == f"/v3/conversations/{conversation('ana')}/activities"
    assert not any(b["type"].startswith("Input.") for b in card["body"])
    dialog = await open_dialog(org, "ana", card_id, card)
    keys = items(dialog)
    assert len(keys) == 7
    response = await org.submit_dialog("ana", dialog, **{k: "6" for k in keys[:3]})
    assert response.status == 200
    assert await response.read() == b""  # an empty 200: Teams closes the dialog
    assert await answers(org) == 3
    [sent] = [s for s in org.standin.to(conversation("ana")) if s.card]
    assert sent.id == card_id and len(sent.updates) == 1  # the same card, updated
    assert "3 of 7 answered" in json.dumps(sent.card)
    assert org.standin.texts_to(conversation("ana")) == []  # no extra messages


async def test_no_version_of_a_card_shows_what_was_chosen(org: TeamsOrg) -> None:
    await org.install("ben")
    card_id, card = await pulse_card(org, "ana")
    [ben] = [s for s in org.standin.to(conversation("ben")) if s.card]
    for handle, sent_id, score in (("ana", card_id, "1"), ("ben", ben.id, "7")):
        dialog = await open_dialog(org, handle, sent_id, card)
        await org.submit_dialog(handle, dialog, **{k: score for k in items(dialog)})
    [ana] = [s for s in org.standin.to(conversation("ana")) if s.card]
    [ben] = [s for s in org.standin.to(conversation("ben")) if s.card]
    assert ana.updates and ben.updates
    assert ana.card == ben.card  # all 1s and all 7s: the same card, byte for byte
    assert "✓" not in every_version(org)


async def test_a_comment_goes_through_a_dialog_and_no_message_holds_it(org: TeamsOrg) -> None:
    card_id, card = await pulse_card(org, "ana")
    dialog = await open_dialog(org, "ana", card_id, card)
    assert fields(dialog)["comment"]["type"] == "Input.Text"
    secret = "We talk around problems instead of about them."

    empty = await org.submit_dialog("ana", dialog, comment=" ")
    again = dialog_card(await empty.json())  # the dialog stays, with the reason
    assert "Choose an answer or write a comment" in again["body"][0]["text"]
    assert await comments(org) == []

    submitted = await org.submit_dialog("ana", again, comment=secret, **{items(again)[0]: "5"})
    assert submitted.status == 200
    assert await comments(org) == [secret]
    [sent] = [s for s in org.standin.to(conversation("ana")) if s.card]
    assert sent.id == card_id and sent.updates  # the chat card updated
    assert secret not in every_version(org)  # in no version of any message
    reopened = fields(await open_dialog(org, "ana", card_id, sent.card or {}))
    assert reopened["comment"]["value"] == secret  # in the dialog, for her alone
    assert reopened[items(again)[0]]["value"] == "5"


async def test_answers_are_changed_in_the_dialog_while_the_round_is_open(org: TeamsOrg) -> None:
    card_id, card = await pulse_card(org, "ana")
    dialog = await open_dialog(org, "ana", card_id, card)
    first, second = items(dialog)[:2]
    await org.submit_dialog("ana", dialog, **{first: "2", second: "4"})
    dialog = await open_dialog(org, "ana", card_id, card)
    assert (fields(dialog)[first]["value"], fields(dialog)[second]["value"]) == ("2", "4")
    await org.submit_dialog("ana", dialog, **{first: "7", second: "4"})
    async with org.app.db.session() as session:
        scores = sorted((await session.exec(select(PulseOpenAnswer.score))).all())
    assert scores == [4, 7]  # changed, not added
    assert fields(await open_dialog(org, "ana", card_id, card))[first]["value"] == "7"


async def test_unreadable_answers_are_refused_in_the_dialog_and_nothing_stored(
    org: TeamsOrg,
) -> None:
    card_id, card = await pulse_card(org, "ana")
    dialog = await open_dialog(org, "ana", card_id, card)
    item = items(dialog)[0]
    cases: list[tuple[dict[str, str], str]] = [
        ({item: "banana"}, "could not be read"),
        ({item: "9"}, "go from 1 to 7"),
        ({"not_an_item": "3"}, "not a question of this pulse"),
        ({"comment": "x" * 1001}, "at most 1000"),
    ]
    for inputs, says in cases:
        response = await org.submit_dialog("ana", dialog, **inputs)
        assert response.status == 200, inputs
        shown = dialog_card(await response.json())
        assert says in shown["body"][0]["text"], (inputs, shown["body"][0])
    forged = {**dialog["actions"][0], "data": {**dialog["actions"][0]["data"], "pf": "junk"}}
    response = await org.submit_dialog("ana", {"actions": [forged]}, **{item: "nope"})
    assert (await response.json())["task"]["type"] == "message"  # said, the dialog closed
    assert await answers(org) == 0 and await comments(org) == []
    [sent] = [s for s in org.standin.to(conversation("ana")) if s.card]
    assert sent.updates == []


async def test_an_action_on_a_closed_round_is_refused_in_words(org: TeamsOrg) -> None:
    card_id, card = await pulse_card(org, "ana")
    dialog = await open_dialog(org, "ana", card_id, card)  # opened while the round was open
    async with org.app.db.session() as session:
        [message] = (await session.exec(select(OutboxMessage))).all()[:1]
    round_id = int(message.ref.split(":")[1])
    await close_round(org.app.services, round_id)
    before = await answers(org)
    response = await org.submit_dialog("ana", dialog, **{items(dialog)[0]: "3"})
    assert response.status == 200
    assert "closed" in dialog_card(await response.json())["body"][0]["text"]
    assert await answers(org) == before
    late = await org.open_dialog("ana", card_id, answer_button(card))
    assert late.status == 200
    refused = (await late.json())["task"]
    assert refused["type"] == "message" and "closed" in refused["value"]


async def test_an_older_cards_answer_click_says_where_the_answers_are(org: TeamsOrg) -> None:
    card_id, card = await pulse_card(org, "ana")
    old = {
        **answer_button(card),
        "data": {k: v for k, v in answer_button(card)["data"].items() if k != "msteams"},
    }
    response = await org.click("ana", card_id, old)  # a message, as before dialogs
    assert response.status == 200
    [said] = org.standin.texts_to(conversation("ana"))
    assert "private dialog" in said and "home" in said
    assert "Input." not in every_version(org)


async def test_uninstall_marks_the_address_inactive(org: TeamsOrg) -> None:
    await org.install("ana")
    await org.post(org.activity("ana", "installationUpdate", action="remove"))
    stored = await address(org, "ana")
    assert stored is not None and not stored.active
    assert stored.inactive_reason == "teams: app uninstalled by the user"
    await org.install("ana")  # back
    assert (await address(org, "ana")).active  # type: ignore[union-attr]


async def test_a_403_on_a_proactive_send_makes_the_address_inactive(org: TeamsOrg) -> None:
    await org.install("ana")
    org.standin.faults.forbidden.add(conversation("ana"))
    await open_round(org.app.services, "leadership")
    await org.app.sender.drain()
    stored = await address(org, "ana")
    assert stored is not None and not stored.active
    assert "403" in (stored.inactive_reason or "")


async def test_text_commands_are_answered_with_cards(org: TeamsOrg) -> None:
    await org.install("cora")
    for command in ("help", "results", "commitments", "digest", "snooze", "admin"):
        before = len(org.standin.to(conversation("cora")))
        response = await org.say("cora", command)
        assert response.status == 200, command
        assert len(org.standin.to(conversation("cora"))) > before, command
