"""Slack's side of the conversation for tests: signed requests, payloads as Slack sends
them, and an organisation whose people are Slack users, served by the real aiohttp app
with SLACK_API_URL pointing at the stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier

import bot.slack.link as slack_link
from bot.app import Pulsecoach, build_web_app
from bot.settings import Settings
from bot.slack.mount import SLACK_KEY
from scheduler.runtime.jobs import SchedulerRuntime
from storage.core.models import ChatAddress, Membership, Person, Team, Workspace
from storage.pulse.models import PulseProgram
from tests.support.clock import FakeClock
from tests.support.slack.standin import BOT_TOKEN, TEAM, SlackStandIn

SECRET = "test-signing-secret"
EXECUTIVES = {"ana": "UANA", "ben": "UBEN", "chloe": "UCHLOE", "dev": "UDEV"}
OTHERS = {"cora": ("UCORA", "coach"), "adam": ("UADAM", "admin")}


def signed_headers(
    body: str, secret: str = SECRET, timestamp: int | None = None, content_type: str = ""
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature or "",
        "Content-Type": content_type or "application/x-www-form-urlencoded",
    }


def interactive_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def block_action(
    user: str,
    action_id: str,
    value: str,
    *,
    response_url: str = "",
    home: bool = False,
    block_id: str = "b|1",
    state: dict[str, Any] | None = None,
    team: str = TEAM,
) -> dict[str, Any]:
    container = (
        {"type": "view", "view_id": "VHOME"}
        if home
        else {"type": "message", "message_ts": "1.0", "channel_id": f"D{user}"}
    )
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "acme"},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0PULSE",
        "trigger_id": f"trigger-{user}-{time.monotonic_ns()}",
        "container": container,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": "1.0",
            }
        ],
        "state": state or {"values": {}},
    }
    if home:
        payload["view"] = {"id": "VHOME", "type": "home"}
    else:
        payload["channel"] = {"id": f"D{user}"}
        payload["message"] = {"ts": "1.0"}
        payload["response_url"] = response_url
    return payload


def view_submission(user: str, view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    state: dict[str, Any] = {"values": {}}
    for block in view["blocks"]:
        if block.get("type") == "input":
            element = block["element"]
            input_id = element["action_id"]
            if element["type"] == "static_select":  # a menu: the chosen option, or none
                chosen = values.get(input_id)
                option = {"value": chosen} if chosen is not None else None
                entry = {"type": "static_select", "selected_option": option}
            else:
                entry = {"type": "plain_text_input", "value": values.get(input_id)}
            state["values"][block["block_id"]] = {input_id: entry}
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0PULSE",
        "view": {**view, "id": "VMODAL", "state": state, "team_id": TEAM},
    }


def slash_body(user: str, text: str, response_url: str) -> str:
    return urlencode(
        {
            "command": "/pulse",
            "text": text,
            "team_id": TEAM,
            "user_id": user,
            "channel_id": "C0GENERAL",
            "response_url": response_url,
            "trigger_id": f"trigger-{time.monotonic_ns()}",
            "api_app_id": "A0PULSE",
        }
    )


def event_body(event: dict[str, Any], event_id: str = "Ev1", team: str = TEAM) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": team,
            "api_app_id": "A0PULSE",
            "event": event,
            "event_id": event_id,
            "event_time": int(time.time()),
        }
    )


@dataclass
class SlackOrg:
    app: Pulsecoach
    client: TestClient[Any, Any]
    standin: SlackStandIn
    clock: FakeClock
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def channel(self) -> Any:
        assert isinstance(self.client.server, TestServer)
        return self.client.server.app[SLACK_KEY]

    async def post(self, body: str, **header_options: Any) -> Any:
        content_type = "application/json" if body.startswith("{") else ""
        headers = signed_headers(body, content_type=content_type, **header_options)
        return await self.client.post("/slack/events", data=body, headers=headers)

    async def act(self, payload: dict[str, Any]) -> Any:
        response = await self.post(interactive_body(payload))
        await self.settle()
        return response

    async def settle(self) -> None:
        """Wait for the work after the ack."""
        await self.channel.after.drain(5.0)


async def seed(
    app: Pulsecoach, privacy: str = "anonymous", team_sees: bool = False
) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with app.db.session() as session:
        workspace = Workspace(
            key="acme", name="Acme", channel="slack", external_id=TEAM, timezone="Europe/Berlin"
        )
        session.add(workspace)
        await session.flush()
        team = Team(workspace_id=workspace.id or 0, key="leadership", name="Leadership team")
        session.add(team)
        await session.flush()
        ids["team"] = team.id or 0
        people = [(h, u, "executive") for h, u in EXECUTIVES.items()]
        people += [(h, u, role) for h, (u, role) in OTHERS.items()]
        for handle, user, role in people:
            person = Person(
                workspace_id=workspace.id or 0,
                handle=handle,
                name=handle.title(),
                email=f"{handle}@acme.test",
                work_days=[0, 1, 2, 3, 4, 5, 6],
                work_start="00:00",
                work_end="23:59",
            )
            session.add(person)
            await session.flush()
            ids[handle] = person.id or 0
            session.add(
                ChatAddress(
                    person_id=person.id or 0,
                    channel="slack",
                    address={"user_id": user, "team_id": TEAM},
                )
            )
            session.add(Membership(team_id=team.id or 0, person_id=person.id or 0, role=role))
        program = PulseProgram(
            team_id=team.id or 0,
            key="safety",
            instrument="team_safety",
            privacy=privacy,
            team_sees_results=team_sees,
        )
        session.add(program)
        await session.flush()
        ids["program"] = program.id or 0
    return ids


def slack_settings(tmp_path: Path, standin: SlackStandIn, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "PULSECOACH_DATABASE_URL": f"sqlite:///{tmp_path / 'slack.db'}",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": standin.api_url,
    }
    values.update(extra)
    return Settings(**{k: v for k, v in values.items() if v is not None})


@asynccontextmanager
async def slack_org(
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    *,
    roster: bool = False,
    seed_org: bool = True,
    **options: Any,
) -> AsyncIterator[SlackOrg]:
    # Lookups are paced under Slack's tiers (20-100 a minute); tests need not wait.
    monkeypatch.setattr(slack_link, "TIER_2", 6000.0)
    monkeypatch.setattr(slack_link, "TIER_3", 6000.0)
    monkeypatch.setattr(slack_link, "TIER_4", 6000.0)
    standin = await SlackStandIn().start()
    settings = slack_settings(tmp_path, standin, **options.pop("settings", {}))
    app = Pulsecoach.build(settings, clock=clock)
    client = TestClient(TestServer(build_web_app(app, run_scheduler=False)))
    await client.start_server()
    # `roster`: the channel's leader jobs (workspace check, roster) run as in `serve`,
    # without the rest of the scheduler (whose passes the tests drive themselves).
    runtime = SchedulerRuntime()
    if roster:
        jobs = [job for channel in app.channels for job in channel.system_jobs()]
        runtime.lead(app.lock, settings.leader_probe_seconds, jobs)
        runtime.start()
    try:
        ids = await seed(app, **options) if seed_org else {}
        yield SlackOrg(app=app, client=client, standin=standin, clock=clock, ids=ids)
    finally:
        runtime.shutdown()
        await client.close()
        await standin.stop()
