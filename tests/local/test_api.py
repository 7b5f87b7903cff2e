"""The local channel's JSON API, end to end through the real aiohttp app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func
from sqlmodel import select

from bot.app import PULSECOACH_KEY, Pulsecoach, build_web_app
from bot.settings import Settings
from storage.core.models import LocalMessage, Membership, Person, Team, Workspace


@dataclass
class Org:
    workspace_id: int
    maya: int  # executive on two teams
    sam: int  # coach on one team


async def seed(app: Pulsecoach) -> Org:
    """A local workspace with an executive and a coach on two teams."""
    async with app.db.session() as session:
        workspace = Workspace(key="local", name="Local", channel="local", external_id="local")
        session.add(workspace)
        await session.flush()
        assert workspace.id is not None
        maya = Person(workspace_id=workspace.id, handle="maya", name="Maya Chen")
        sam = Person(workspace_id=workspace.id, handle="sam", name="Sam Okafor")
        north = Team(workspace_id=workspace.id, key="north", name="North leadership")
        south = Team(workspace_id=workspace.id, key="south", name="South leadership")
        session.add_all([maya, sam, north, south])
        await session.flush()
        assert maya.id and sam.id and north.id and south.id
        session.add_all(
            [
                Membership(team_id=north.id, person_id=maya.id, role="executive"),
                Membership(team_id=south.id, person_id=maya.id, role="executive"),
                Membership(team_id=north.id, person_id=sam.id, role="coach"),
            ]
        )
        return Org(workspace_id=workspace.id, maya=maya.id, sam=sam.id)


@pytest.fixture
async def client(tmp_path: Path, no_env: None) -> AsyncIterator[TestClient[Any, Any]]:
    settings = Settings(PULSECOACH_DATABASE_URL=f"sqlite:///{tmp_path / 'api.db'}")
    app = Pulsecoach.build(settings)
    web_app = build_web_app(app, run_scheduler=False)
    async with TestClient(TestServer(web_app)) as test_client:  # startup upgrades the schema
        await seed(app)
        yield test_client


def pulsecoach(client: TestClient[Any, Any]) -> Pulsecoach:
    assert isinstance(client.server, TestServer)
    return client.server.app[PULSECOACH_KEY]


async def local_rows(client: TestClient[Any, Any]) -> int:
    async with pulsecoach(client).db.session() as session:
        return (await session.exec(select(func.count()).select_from(LocalMessage))).one()


async def say(client: TestClient[Any, Any], handle: str, text: str) -> dict[str, Any]:
    response = await client.post(f"/api/local/people/{handle}/messages", json={"text": text})
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def click(
    client: TestClient[Any, Any], handle: str, body: Any, status: int = 200
) -> dict[str, Any]:
    response = await client.post(f"/api/local/people/{handle}/actions", json=body)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    answer: dict[str, Any] = await response.json()
    return answer


def buttons(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        button
        for block in row["message"]["blocks"]
        if block["type"] == "buttons"
        for button in block["buttons"]
    ]


async def test_personas_lists_people_with_roles_and_teams(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/local/personas")
    assert response.status == 200
    personas = {p["handle"]: p for p in (await response.json())["personas"]}
    assert set(personas) == {"maya", "sam"}
    assert personas["maya"]["name"] == "Maya Chen"
    assert personas["maya"]["roles"] == ["executive"]
    assert sorted(personas["maya"]["teams"]) == ["north", "south"]
    assert personas["sam"]["roles"] == ["coach"]
    assert personas["sam"]["teams"] == ["north"]


async def test_help_then_clicks_update_in_place_and_add_messages(
    client: TestClient[Any, Any],
) -> None:
    reply = await say(client, "maya", "help")
    assert reply["ok"] is True
    [help_row] = reply["messages"]
    assert help_row["sender"] == "bot"
    assert help_row["version"] == 1
    assert {b["action_id"] for b in buttons(help_row)} == {"home.teams", "home.help"}

    # The chat holds the user's line, then the bot's answer.
    history = (await (await client.get("/api/local/people/maya/messages")).json())["messages"]
    assert [(m["sender"], m["message"]["text"]) for m in history] == [
        ("user", "help"),
        ("bot", help_row["message"]["text"]),
    ]
    assert history[-1]["id"] == help_row["id"]

    # Help on the help message updates that very message.
    answer = await click(
        client, "maya", {"message_id": help_row["id"], "action_id": "home.help", "value": ""}
    )
    [updated] = answer["messages"]
    assert updated["id"] == help_row["id"]
    assert updated["version"] == 2
    assert updated["ref"] == help_row["ref"]

    # "My teams" adds a new message listing the teams.
    before = await local_rows(client)
    answer = await click(
        client,
        "maya",
        {"message_id": help_row["id"], "action_id": "home.teams", "value": "", "inputs": {}},
    )
    [teams] = answer["messages"]
    assert teams["id"] != help_row["id"]
    assert teams["version"] == 1
    fields = [b for b in teams["message"]["blocks"] if b["type"] == "fields"]
    assert [(f["label"], f["value"]) for f in fields[0]["fields"]] == [
        ("North leadership", "executive"),
        ("South leadership", "executive"),
    ]
    assert await local_rows(client) == before + 1

    history = (await (await client.get("/api/local/people/maya/messages")).json())["messages"]
    assert [m["id"] for m in history] == sorted(m["id"] for m in history)
    assert {m["id"]: m["version"] for m in history}[help_row["id"]] == 2

    # Sam's chat is his own.
    sams = (await (await client.get("/api/local/people/sam/messages")).json())["messages"]
    assert sams == []


async def test_click_by_message_ref(client: TestClient[Any, Any]) -> None:
    [help_row] = (await say(client, "maya", "hi"))["messages"]
    answer = await click(client, "maya", {"message_ref": help_row["ref"], "action_id": "home.help"})
    assert answer["messages"][0]["id"] == help_row["id"]
    assert answer["messages"][0]["version"] == 2


async def test_unknown_persona_is_404_with_a_message(client: TestClient[Any, Any]) -> None:
    before = await local_rows(client)
    for method, path, body in [
        ("GET", "/api/local/people/nobody/messages", None),
        ("POST", "/api/local/people/nobody/messages", {"text": "help"}),
        ("POST", "/api/local/people/nobody/actions", {"action_id": "home.help"}),
    ]:
        response = await client.request(method, path, json=body)
        assert response.status == 404, path
        error = (await response.json())["error"]
        assert "nobody" in error and "personas" in error
    assert await local_rows(client) == before


@pytest.mark.parametrize("path", ["actions", "messages"])
async def test_malformed_json_is_400(client: TestClient[Any, Any], path: str) -> None:
    before = await local_rows(client)
    for raw in ["{not json", "", "\xff"]:
        response = await client.post(
            f"/api/local/people/maya/{path}",
            data=raw.encode("latin-1"),
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 400, raw
        assert "not valid JSON" in (await response.json())["error"]
    assert await local_rows(client) == before


@pytest.mark.parametrize("path", ["actions", "messages"])
@pytest.mark.parametrize("body", [[], "help", 3, None])
async def test_body_must_be_an_object(client: TestClient[Any, Any], path: str, body: Any) -> None:
    before = await local_rows(client)
    response = await client.post(
        f"/api/local/people/maya/{path}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400
    assert (await response.json())["error"] == "request body must be a JSON object"
    assert await local_rows(client) == before


async def test_bad_actions_are_refused_without_writing(client: TestClient[Any, Any]) -> None:
    [help_row] = (await say(client, "maya", "help"))["messages"]
    [sams_help] = (await say(client, "sam", "help"))["messages"]
    history = (await (await client.get("/api/local/people/maya/messages")).json())["messages"]
    [user_line] = [m for m in history if m["sender"] == "user"]
    before = await local_rows(client)

    cases: list[tuple[Any, int, str]] = [
        ({"message_id": help_row["id"]}, 422, "field 'action_id' must be a non-empty string"),
        ({"action_id": ""}, 422, "field 'action_id' must be a non-empty string"),
        ({"action_id": 7}, 422, "field 'action_id' must be a non-empty string"),
        ({"action_id": "home.help", "value": 5}, 422, "field 'value' must be a string"),
        ({"action_id": "home.help", "inputs": []}, 422, "field 'inputs' must be an object"),
        ({"action_id": "home.help", "inputs": {"a": 1}}, 422, "must map input ids to strings"),
        ({"action_id": "pulse.nope", "message_id": help_row["id"]}, 422, "unknown action_id"),
        (
            {"action_id": "home.help", "message_id": user_line["id"]},
            422,
            f"is not in message {user_line['id']}",
        ),
        ({"action_id": "home.help", "message_id": "1"}, 422, "'message_id' must be an integer"),
        ({"action_id": "home.help", "message_id": sams_help["id"]}, 404, "no such message"),
        ({"action_id": "home.help", "message_id": 10_000}, 404, "no such message"),
        ({"action_id": "home.help", "message_ref": "nope"}, 404, "no such message"),
    ]
    for body, status, message in cases:
        answer = await click(client, "maya", body, status=status)
        assert message in answer["error"], (body, answer)
    assert await local_rows(client) == before

    # Nothing was changed in place either.
    history = (await (await client.get("/api/local/people/maya/messages")).json())["messages"]
    assert all(m["version"] == 1 for m in history)


async def test_bad_text_messages_are_refused_without_writing(client: TestClient[Any, Any]) -> None:
    before = await local_rows(client)
    for body, fragment in [
        ({}, "field 'text' must be a non-empty string"),
        ({"text": ""}, "field 'text' must be a non-empty string"),
        ({"text": 42}, "field 'text' must be a non-empty string"),
        ({"text": "x" * 4001}, "longer than 4000 characters"),
    ]:
        response = await client.post("/api/local/people/maya/messages", json=body)
        assert response.status == 422, body
        assert fragment in (await response.json())["error"]
    assert await local_rows(client) == before


async def test_index_page_and_static_files_are_served(client: TestClient[Any, Any]) -> None:
    response = await client.get("/")
    assert response.status == 200
    page = await response.text()
    assert "pulsecoach — local chat" in page
    assert "/static/app.js" in page and "/static/style.css" in page
    for name, kind in [("app.js", "javascript"), ("style.css", "css")]:
        response = await client.get(f"/static/{name}")
        assert response.status == 200
        assert kind in response.content_type


async def test_healthz(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["schema"] == await pulsecoach(client).db.current_revision()
    assert body["schema"]
    assert body["channels"] == ["local (loopback only)"]


async def test_metrics_count_actions(client: TestClient[Any, Any]) -> None:
    [help_row] = (await say(client, "maya", "help"))["messages"]
    await click(client, "maya", {"message_id": help_row["id"], "action_id": "home.help"})
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    metrics = await response.text()
    assert "# TYPE pulsecoach_actions_total counter" in metrics
    assert 'pulsecoach_actions_total{channel="local",outcome="ok"}' in metrics
    assert "pulsecoach_action_seconds_bucket" in metrics


async def test_local_chat_is_off_when_a_platform_is_configured(tmp_path: Path) -> None:
    settings = Settings(
        PULSECOACH_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        SLACK_SIGNING_SECRET="s",
        SLACK_BOT_TOKEN="xoxb-1",
    )
    assert not settings.local_enabled and settings.enabled_channels() == ["slack (http)"]
    forced = Settings(
        PULSECOACH_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        SLACK_SIGNING_SECRET="s",
        SLACK_BOT_TOKEN="xoxb-1",
        PULSECOACH_LOCAL_CHANNEL="true",
    )
    assert forced.local_enabled


async def test_local_chat_refuses_requests_from_other_machines() -> None:
    from unittest import mock

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from bot.local.api import json_errors

    transport = mock.Mock()
    transport.get_extra_info.return_value = ("192.0.2.7", 40000)
    request = make_mocked_request("GET", "/api/local/personas", transport=transport)

    async def handler(_: web.Request) -> web.Response:
        raise AssertionError("must not run")

    response = await json_errors(request, handler)
    assert response.status == 403
    assert "only on this machine" in json.loads(response.text or "")["error"]  # type: ignore[attr-defined]
