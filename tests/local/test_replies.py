"""Replies where people look (#15.1): every answer to a command is a new message at
the bottom, refusals are said in the conversation, unknown text says so and offers
the closest command, and hints name the command in the channel's own form."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.cli.pulse import cli_form
from bot.slack.commands import slack_form
from handlers.router import closest_command
from storage.core.models import Membership, Team
from tests.local.test_api import click, client, pulsecoach, say  # noqa: F401 (fixture)

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "local-api.md").read_text()


async def history(api: TestClient[Any, Any], handle: str) -> list[dict[str, Any]]:
    response = await api.get(f"/api/local/people/{handle}/messages")
    rows: list[dict[str, Any]] = (await response.json())["messages"]
    return rows


async def test_a_command_typed_again_answers_at_the_bottom(
    client: TestClient[Any, Any],  # noqa: F811
) -> None:
    [first] = (await say(client, "maya", "help"))["messages"]
    await say(client, "maya", "teams")
    [second] = (await say(client, "maya", "help"))["messages"]

    rows = await history(client, "maya")
    assert [(r["sender"], r["message"]["text"]) for r in rows] == [
        ("user", "help"),
        ("bot", "Hi, I'm pulsecoach"),
        ("user", "teams"),
        ("bot", "Your teams"),
        ("user", "help"),
        ("bot", "Hi, I'm pulsecoach"),
    ]
    assert second["id"] == rows[-1]["id"] != first["id"]
    assert all(r["version"] == 1 for r in rows)  # nothing far up was edited

    # The button pressed updates only its own message, old or new.
    answer = await click(client, "maya", {"message_id": first["id"], "action_id": "home.help"})
    assert [m["id"] for m in answer["messages"]] == [first["id"]]
    versions = {r["id"]: r["version"] for r in await history(client, "maya")}
    assert (versions[first["id"]], versions[second["id"]]) == (2, 1)


async def test_a_refusal_is_a_bot_message_under_the_command(
    client: TestClient[Any, Any],  # noqa: F811
) -> None:
    response = await client.post("/api/local/people/maya/messages", json={"text": "pulse close"})
    assert response.status == 409
    body = await response.json()
    assert body["refused"] is True
    [said] = body["messages"]
    # Maya is on two teams: the hint is the command she typed, with her teams.
    assert said["message"]["blocks"][0]["style"] == "notice"
    assert "north, south" in said["message"]["text"]
    assert "`pulse close north`" in said["message"]["text"]
    rows = await history(client, "maya")
    assert [(r["sender"], r["message"]["text"]) for r in rows] == [
        ("user", "pulse close"),
        ("bot", said["message"]["text"]),
    ]


async def test_a_non_admin_is_told_why_and_whom_to_ask(
    client: TestClient[Any, Any],  # noqa: F811
) -> None:
    app = pulsecoach(client)
    async with app.db.session() as session:
        from sqlmodel import select

        north = (await session.exec(select(Team).where(Team.key == "north"))).one()
        from storage.core.models import Person

        sam = (await session.exec(select(Person).where(Person.handle == "sam"))).one()
        session.add(Membership(team_id=north.id or 0, person_id=sam.id or 0, role="admin"))
    response = await client.post(
        "/api/local/people/maya/messages", json={"text": "pulse close north"}
    )
    assert response.status == 409
    said = (await response.json())["messages"][0]["message"]["text"]
    assert said.startswith("Only an admin of North leadership can close its pulse.")
    assert "ask Sam Okafor" in said


async def test_unknown_text_says_so_and_offers_the_closest_command(
    client: TestClient[Any, Any],  # noqa: F811
) -> None:
    reply = await say(client, "maya", "reslts north")
    first, help_message = reply["messages"]
    assert first["message"]["text"] == (
        "Sorry, I didn't understand “reslts north”.\n"
        "Did you mean `results north`? Here is what I can do:"
    )
    assert help_message["message"]["text"] == "Hi, I'm pulsecoach"

    [first, _] = (await say(client, "maya", "qwertyuiop"))["messages"]
    assert "didn't understand “qwertyuiop”" in first["message"]["text"]
    assert "Did you mean" not in first["message"]["text"]

    # Saying nothing but the slash command is asking for help, not gibberish.
    [only] = (await say(client, "maya", "/pulse"))["messages"]
    assert only["message"]["text"] == "Hi, I'm pulsecoach"


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("shedule leadership", "schedule leadership"),
        ("digets", "digests"),
        ("comitments", "commitments"),
        ("halp", "help"),
        ("xyzzy", None),
    ],
)
def test_closest_command(typed: str, offered: str | None) -> None:
    assert closest_command(typed.split()) == offered


def test_hints_take_each_channels_form() -> None:
    said = "Close it first with `pulse close leadership`, or see `results` and `YYYY-MM-DD`."
    assert slack_form(said) == (
        "Close it first with `/pulse pulse close leadership`, or see `/pulse results` "
        "and `YYYY-MM-DD`."
    )
    assert slack_form("Type `/pulse help`") == "Type `/pulse help`"
    assert cli_form(said) == (
        "Close it first with `pulsecoach pulse close leadership`, or see `results` and "
        "`YYYY-MM-DD`."
    )


async def test_favicon_and_the_documented_healthz(
    client: TestClient[Any, Any],  # noqa: F811
) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    assert (await icon.text()).startswith("<svg")

    # docs/local-api.md shows what /healthz answers (the schema revision aside).
    found = re.search(r"GET /healthz\n```\n\n```json\n(.*?)\n```", DOCS, re.S)
    assert found is not None
    shown = json.loads(found[1])
    health = await (await client.get("/healthz")).json()
    assert set(shown) == set(health)
    assert (shown["status"], shown["channels"]) == (health["status"], health["channels"])
    assert re.fullmatch(r"\d{4}", health["schema"]) and re.fullmatch(r"\d{4}", shown["schema"])
