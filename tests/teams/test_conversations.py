"""Conversations with the Teams turn logic on botbuilder's TestAdapter: text commands in
a personal chat answered with cards, and card actions coming back to the handlers;
every card checked against the rules Teams enforces."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.app import Pulsecoach
from bot.channel import Wiring
from bot.core.messages import Message
from bot.teams import cards
from bot.teams.channel import TeamsChannel
from handlers.pulse.rounds import open_round
from tests.support.clock import FakeClock
from tests.support.teams.connector import BOT_ID, TENANT
from tests.support.teams.helpers import (
    aad,
    actions,
    dialog_card,
    fields,
    seed,
    submit_data,
    teams_settings,
    user,
)


async def _no_image(key: str) -> None:
    return None


@pytest.fixture
async def app(tmp_path: Path, clock: FakeClock, no_env: None) -> AsyncIterator[Pulsecoach]:
    built = Pulsecoach.build(teams_settings(tmp_path), clock=clock)
    await built.db.upgrade()
    await seed(built)
    yield built
    await built.db.dispose()


def chat(app: Pulsecoach, handle: str) -> tuple[TestAdapter, TeamsChannel]:
    wiring = Wiring(app.settings, app.db, app.clock, app.services, app.router, app.lock, _no_image)
    channel = TeamsChannel(wiring)
    template = Activity(
        channel_id="msteams",
        service_url="https://smba.example/teams/",
        from_property=ChannelAccount(id=user(handle), name=handle, aad_object_id=aad(handle)),
        recipient=ChannelAccount(id=BOT_ID, name="pulsecoach"),
        conversation=ConversationAccount(
            id=f"a:{handle}", conversation_type="personal", tenant_id=TENANT
        ),
    )
    return TestAdapter(channel.turns.on_turn, template), channel


def card_of(activity: Activity) -> dict[str, Any]:
    [attachment] = activity.attachments
    assert attachment.content_type == cards.CONTENT_TYPE
    content: dict[str, Any] = attachment.content
    assert cards.problems(content) == []
    return content


def replies(adapter: TestAdapter) -> list[Activity]:
    found = []
    while (activity := adapter.get_next_activity()) is not None:
        found.append(activity)
    return found


@pytest.mark.parametrize(
    ("handle", "commands"),
    [
        ("ana", ["help", "home", "teams", "results", "commitments", "contract", "snooze"]),
        ("cora", ["help", "results", "digest", "commitments"]),
        ("adam", ["help", "admin", "results"]),
    ],
)
async def test_text_commands_answer_with_valid_cards(
    app: Pulsecoach, handle: str, commands: list[str]
) -> None:
    adapter, _ = chat(app, handle)
    for command in commands:
        await adapter.send(command)
        answered = replies(adapter)
        assert answered, command
        for activity in answered:
            if activity.attachments:
                card_of(activity)
            else:
                assert activity.text, command


def invoked(adapter: TestAdapter) -> Any:
    """The body of the turn's invoke answer (always 200)."""
    [answer] = [a for a in replies(adapter) if a.type == "invokeResponse"]
    assert answer.value.status == 200
    return answer.value.body


async def test_the_answer_button_opens_a_private_dialog_and_updates_the_card(
    app: Pulsecoach,
) -> None:
    adapter, _ = chat(app, "ana")
    await open_round(app.services, "leadership")
    outbox = [m for m in await _outbox(app) if m.person_id == 1]
    pulse = cards.render(Message.model_validate(outbox[0].payload))
    assert cards.problems(pulse) == []
    opener = next(a for a in actions(pulse) if a["data"]["pc"] == "pulse.open")
    assert opener["data"]["msteams"] == {"type": "task/fetch"}
    fetch = {"type": "task/fetch", "data": opener["data"]}

    await adapter.send(Activity(type="invoke", name="task/fetch", value=fetch, reply_to_id="c-1"))
    dialog = dialog_card(invoked(adapter))
    asked = fields(dialog)
    items = [key for key, f in asked.items() if f["type"] == "Input.ChoiceSet"]
    assert len(items) == 7 and asked["comment"]["type"] == "Input.Text"
    assert all("value" not in f for f in asked.values())  # nothing answered yet
    secret = "Nobody says no to the CEO."
    chosen = {items[0]: "6", items[1]: "2", "comment": secret}
    [save] = dialog["actions"]
    submit = {"type": "task/submit", "data": submit_data(save, **chosen)}

    await adapter.send(Activity(type="invoke", name="task/submit", value=submit))
    assert invoked(adapter) is None  # the dialog closes
    [updated] = adapter.updated_activities
    assert updated.id == "c-1"  # the card the dialog was opened from
    card = card_of(updated)
    shown = json.dumps(card)
    assert "2 of 7 answered" in shown and secret not in shown
    assert not any(a["data"]["pc"] == "pulse.answer" for a in actions(card))

    await adapter.send(Activity(type="invoke", name="task/fetch", value=fetch, reply_to_id="c-1"))
    again = fields(dialog_card(invoked(adapter)))  # their own answers, in the dialog only
    assert {k: again[k].get("value") for k in chosen} == chosen
    assert all("value" not in again[k] for k in items[2:])


async def test_help_buttons_come_back_as_the_same_actions(app: Pulsecoach) -> None:
    adapter, _ = chat(app, "ana")
    await adapter.send("help")
    [help_card] = [card_of(a) for a in replies(adapter) if a.attachments]
    button = next(iter(actions(help_card)))
    await adapter.send(Activity(type="message", value=button["data"]))
    assert replies(adapter) or adapter.updated_activities


async def _outbox(app: Pulsecoach) -> list[Any]:
    from sqlmodel import select

    from storage.core.models import OutboxMessage

    async with app.db.session() as session:
        return list((await session.exec(select(OutboxMessage))).all())
