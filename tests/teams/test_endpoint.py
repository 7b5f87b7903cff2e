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
from storage.pulse.models import PulseAnswer, PulseComment
from tests.support.clock import FakeClock
from tests.support.teams.connector import TENANT
from tests.support.teams.helpers import TeamsOrg, actions, conversation, teams_org


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


def answer_action(card: dict[str, Any], score: str) -> dict[str, Any]:
    return next(
        a
        for a in actions(card)
        if a["data"].get("pc") == "pulse.answer" and a["data"]["v"].endswith(f":{score}")
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


async def test_pulse_delivered_proactively_answered_by_clicks_and_updated(org: TeamsOrg) -> None:
    card_id, card = await pulse_card(org, "ana")
    proactive = [c for c in org.standin.calls if c[0] == "POST"]
    assert proactive[-1][1] == f"/v3/conversations/{conversation('ana')}/activities"
    response = await org.click("ana", card_id, answer_action(card, "6"))
    assert response.status == 200
    assert await count(org, PulseAnswer) == 1
    [sent] = [s for s in org.standin.to(conversation("ana")) if s.card]
    assert sent.id == card_id and len(sent.updates) == 1  # the same card, updated
    assert org.standin.texts_to(conversation("ana")) == []  # no extra messages


async def test_a_comment_goes_through_a_dialog_and_no_message_holds_it(org: TeamsOrg) -> None:
    card_id, card = await pulse_card(org, "ana")
    opener = next(a for a in actions(card) if a["data"].get("pc") == "pc.form")
    assert opener["data"]["msteams"] == {"type": "task/fetch"}
    fetched = await org.invoke("ana", "task/fetch", {"data": opener["data"]})
    assert fetched.status == 200
    dialog = (await fetched.json())["task"]
    assert dialog["type"] == "continue"
    form = dialog["value"]["card"]["content"]
    [field] = [b for b in form["body"] if b["type"] == "Input.Text"]
    [send] = form["actions"]
    secret = "We talk around problems instead of about them."

    empty = await org.invoke("ana", "task/submit", {"data": {**send["data"], field["id"]: " "}})
    refused = (await empty.json())["task"]
    assert refused["type"] == "continue"  # the dialog stays, with the reason
    assert await count(org, PulseComment) == 0

    submitted = await org.invoke(
        "ana", "task/submit", {"data": {**send["data"], field["id"]: secret}}
    )
    assert submitted.status == 200
    async with org.app.db.session() as session:
        [comment] = (await session.exec(select(PulseComment))).all()
    assert comment.text == secret
    [sent] = [s for s in org.standin.to(conversation("ana")) if s.card]
    assert sent.id == card_id and sent.updates  # the chat card updated
    everything = json.dumps(
        [s.activity for s in org.standin.sent] + [u for s in org.standin.sent for u in s.updates]
    )
    assert secret not in everything  # in no version of any message


async def test_an_action_on_a_closed_round_is_refused_in_words(org: TeamsOrg) -> None:
    card_id, card = await pulse_card(org, "ana")
    async with org.app.db.session() as session:
        [message] = (await session.exec(select(OutboxMessage))).all()[:1]
    round_id = int(message.ref.split(":")[1])
    await close_round(org.app.services, round_id)
    before = await count(org, PulseAnswer)
    response = await org.click("ana", card_id, answer_action(card, "3"))
    assert response.status == 200
    assert await count(org, PulseAnswer) == before
    assert any("closed" in t for t in org.standin.texts_to(conversation("ana")))


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
