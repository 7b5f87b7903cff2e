"""Teams' side of the conversation for tests: activities as Teams sends them, and an
organisation whose people are Teams users, served by the real aiohttp app with the
activities' serviceUrl pointing at the Connector stand-in."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

from bot.app import Pulsecoach, build_web_app
from bot.channel import Wiring
from bot.charts import chart_images
from bot.settings import Settings
from bot.teams import cards
from bot.teams.adapter import TeamsAuth
from bot.teams.channel import TEAMS_KEY, TeamsChannel
from storage.core.models import ChatAddress, Membership, Person, Team, Workspace
from storage.pulse.models import PulseProgram
from tests.support.clock import FakeClock
from tests.support.teams.connector import BOT_ID, TENANT, ConnectorStandIn

APP_ID = "00000000-0000-0000-0000-00000000a99"
# handle -> (role, matched by: "aad" in config, or "email" on first contact)
PEOPLE = {
    "ana": ("executive", "aad"),
    "ben": ("executive", "aad"),
    "chloe": ("executive", "email"),
    "dev": ("executive", "aad"),
    "cora": ("coach", "aad"),
    "adam": ("admin", "aad"),
}
_ids = itertools.count(1)


def user(handle: str) -> str:
    return f"29:{handle}"


def aad(handle: str) -> str:
    return f"aad-{handle}"


def conversation(handle: str) -> str:
    return f"a:{handle}"


def activity(
    handle: str,
    service_url: str,
    kind: str = "message",
    tenant: str = TENANT,
    conversation_type: str = "personal",
    **extra: Any,
) -> dict[str, Any]:
    """An activity from a person to the bot in their personal chat."""
    return {
        "type": kind,
        "id": f"in-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user(handle), "name": handle.title(), "aadObjectId": aad(handle)},
        "recipient": {"id": BOT_ID, "name": "pulsecoach"},
        "conversation": {
            "id": conversation(handle),
            "conversationType": conversation_type,
            "tenantId": tenant,
        },
        "channelData": {"tenant": {"id": tenant}},
        "locale": "en-US",
        **extra,
    }


def submit_data(action: dict[str, Any], **inputs: str) -> dict[str, Any]:
    """What Teams posts back for an Action.Submit: its data and the card's inputs."""
    return {**action["data"], **{f"in.{k}": v for k, v in inputs.items()}}


def dialog_card(body: Any) -> dict[str, Any]:
    """The card of an invoke's answer that shows a dialog, checked against Teams' rules."""
    assert isinstance(body, dict) and body["task"]["type"] == "continue", body
    attachment = body["task"]["value"]["card"]
    assert attachment["contentType"] == cards.CONTENT_TYPE
    content: dict[str, Any] = attachment["content"]
    assert cards.problems(content, dialog=True) == []
    return content


def fields(dialog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A dialog's inputs by neutral input id."""
    return {b["id"][3:]: b for b in dialog["body"] if b["type"].startswith("Input.")}


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = [a for b in card["body"] if b["type"] == "ActionSet" for a in b["actions"]]
    return found + list(card.get("actions") or [])


class StaticCredentials(ServiceClientCredentialsFactory):
    """Outbound credentials without Azure AD: a fixed token the stand-in records."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id: str, *args: Any) -> Any:
        return _Token(app_id)


class _Token(AppCredentials):
    def get_access_token(self, force_refresh: bool = False) -> str:
        return "standin-access-token"


@dataclass
class TeamsOrg:
    app: Pulsecoach
    client: TestClient[Any, Any]
    standin: ConnectorStandIn
    clock: FakeClock
    channel: TeamsChannel
    ids: dict[str, int] = field(default_factory=dict)

    def activity(self, handle: str, kind: str = "message", **extra: Any) -> dict[str, Any]:
        return activity(handle, self.standin.url, kind, **extra)

    async def post(self, body: dict[str, Any], token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/api/messages", json=body, headers=headers)

    async def say(self, handle: str, text: str) -> Any:
        return await self.post(self.activity(handle, text=text))

    async def click(self, handle: str, sent_id: str, action: dict[str, Any], **inputs: str) -> Any:
        return await self.post(
            self.activity(handle, replyToId=sent_id, value=submit_data(action, **inputs))
        )

    async def invoke(self, handle: str, name: str, value: dict[str, Any], **extra: Any) -> Any:
        return await self.post(self.activity(handle, "invoke", name=name, value=value, **extra))

    async def open_dialog(self, handle: str, card_id: str, opener: dict[str, Any]) -> Any:
        """The dialog behind a card's button: task/fetch as Teams sends it (replyToId:
        the card clicked)."""
        value = {"type": "task/fetch", "data": opener["data"]}
        return await self.invoke(handle, "task/fetch", value, replyToId=card_id)

    async def submit_dialog(self, handle: str, dialog: dict[str, Any], **inputs: str) -> Any:
        """A dialog's card submitted: task/submit with its action's data and the inputs
        (no replyToId: Teams sends none from a dialog)."""
        [action] = dialog["actions"]
        value = {"type": "task/submit", "data": submit_data(action, **inputs)}
        return await self.invoke(handle, "task/submit", value)

    async def install(self, handle: str) -> Any:
        return await self.post(self.activity(handle, "installationUpdate", action="add"))


async def seed(app: Pulsecoach, privacy: str = "anonymous") -> dict[str, int]:
    ids: dict[str, int] = {}
    async with app.db.session() as session:
        workspace = Workspace(
            key="contoso", name="Contoso", channel="teams", external_id=TENANT, timezone="UTC"
        )
        session.add(workspace)
        await session.flush()
        team = Team(workspace_id=workspace.id or 0, key="leadership", name="Leadership team")
        session.add(team)
        await session.flush()
        ids["team"] = team.id or 0
        for handle, (role, matched) in PEOPLE.items():
            person = Person(
                workspace_id=workspace.id or 0,
                handle=handle,
                name=handle.title(),
                email=f"{handle}@contoso.test",
                work_days=[0, 1, 2, 3, 4, 5, 6],
                work_start="00:00",
                work_end="23:59",
                quiet_hours=None,
            )
            session.add(person)
            await session.flush()
            ids[handle] = person.id or 0
            if matched == "aad":
                session.add(
                    ChatAddress(
                        person_id=person.id or 0,
                        channel="teams",
                        address={"aad_object_id": aad(handle)},
                    )
                )
            session.add(Membership(team_id=team.id or 0, person_id=person.id or 0, role=role))
        program = PulseProgram(
            team_id=team.id or 0, key="safety", instrument="team_safety", privacy=privacy
        )
        session.add(program)
        await session.flush()
        ids["program"] = program.id or 0
    return ids


def teams_settings(tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "PULSECOACH_DATABASE_URL": f"sqlite:///{tmp_path / 'teams.db'}",
        "PULSECOACH_TEAMS": "dev",
    }
    values.update(extra)
    return Settings(**{k: v for k, v in values.items() if v is not None})


def teams_channel(app: Pulsecoach, auth: TeamsAuth | None = None) -> TeamsChannel:
    """The app's Teams channel; with `auth`, one built anew with it in its place (before
    the web app is built: it mounts the app's channels)."""
    found = next(c for c in app.channels if c.name == "teams")
    if auth is None:
        assert isinstance(found, TeamsChannel)
        return found
    wiring = Wiring(
        app.settings,
        app.db,
        app.clock,
        app.services,
        app.router,
        app.lock,
        chart_images(app.services),
    )
    channel = TeamsChannel(wiring, auth)
    app.channels[app.channels.index(found)] = channel
    app.messengers["teams"] = channel.messenger
    return channel


@asynccontextmanager
async def teams_org(
    tmp_path: Path,
    clock: FakeClock,
    *,
    seed_org: bool = True,
    validate: bool = False,
    standin: ConnectorStandIn | None = None,
    privacy: str = "anonymous",
    settings: dict[str, Any] | None = None,
) -> AsyncIterator[TeamsOrg]:
    standin = standin or ConnectorStandIn()
    await standin.start()
    extra = dict(settings or {})
    auth = None
    if validate:
        extra |= {"PULSECOACH_TEAMS": None, "MICROSOFT_APP_ID": APP_ID}
        extra |= {"MICROSOFT_APP_PASSWORD": "not-used-the-stand-in-needs-no-secret"}
    app = Pulsecoach.build(teams_settings(tmp_path, **extra), clock=clock)
    if validate:  # Microsoft's endpoints replaced by the stand-in's
        auth = replace(
            TeamsAuth.from_settings(app.settings),
            openid_metadata_url=standin.openid_url,
            credentials=StaticCredentials(APP_ID),
        )
    channel = teams_channel(app, auth)
    web_app = build_web_app(app, run_scheduler=False)
    assert web_app[TEAMS_KEY] is channel
    client = TestClient(TestServer(web_app))
    await client.start_server()
    try:
        ids = await seed(app, privacy) if seed_org else {}
        for handle in PEOPLE:
            standin.members[user(handle)] = {
                "id": user(handle),
                "name": handle.title(),
                "aadObjectId": aad(handle),
                "email": f"{handle}@contoso.test",
                "userPrincipalName": f"{handle}@contoso.test",
                "tenantId": TENANT,
            }
        yield TeamsOrg(app, client, standin, clock, channel, ids)
    finally:
        await client.close()
        await standin.stop()
