"""A small organisation for pulse tests, built through storage rows, and a client
for the local channel's API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import Pulsecoach, build_web_app
from bot.settings import Settings
from storage.core.models import ChatAddress, Membership, Person, Team, Workspace
from storage.pulse.models import PulseProgram
from tests.support.clock import FakeClock

EXECUTIVES = ("ana", "ben", "chloe", "dev")
# The team_safety instrument's items, in its order.
ITEMS = [
    "mistakes_held_against",
    "raise_tough_issues",
    "reject_different",
    "safe_to_take_risks",
    "hard_to_ask_for_help",
    "no_undermining",
    "skills_valued",
]


@dataclass
class Org:
    app: Pulsecoach
    client: TestClient
    clock: FakeClock
    ids: dict[str, int] = field(default_factory=dict)

    async def say(self, handle: str, text: str) -> Any:
        response = await self.client.post(
            f"/api/local/people/{handle}/messages", json={"text": text}
        )
        return response.status, await response.json()

    async def click(self, handle: str, action_id: str, value: str, **extra: Any) -> tuple[int, Any]:
        body = {"action_id": action_id, "value": value, **extra}
        response = await self.client.post(f"/api/local/people/{handle}/actions", json=body)
        return response.status, await response.json()

    async def messages(self, handle: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/api/local/people/{handle}/messages")
        assert response.status == 200
        return (await response.json())["messages"]

    async def pulse_message(self, handle: str) -> dict[str, Any]:
        found = [
            m
            for m in await self.messages(handle)
            if m["ref"].startswith("pulse:") and ":" not in m["ref"][6:]
        ]
        assert found, f"{handle} has no pulse message"
        return found[-1]


async def build_org(
    tmp_path: Path,
    clock: FakeClock,
    *,
    privacy: str = "anonymous",
    executives: tuple[str, ...] = EXECUTIVES,
    items_per_pulse: int | None = None,
    database_url: str | None = None,
    settings: dict[str, Any] | None = None,
) -> tuple[Pulsecoach, dict[str, int]]:
    """`settings`: more of the app's settings, by name (e.g. PULSECOACH_PUBLIC_URL)."""
    settings_ = Settings(
        PULSECOACH_DATABASE_URL=database_url or f"sqlite:///{tmp_path / 'pulse.db'}",
        **(settings or {}),
    )
    app = Pulsecoach.build(settings_, clock=clock)
    await app.db.upgrade()
    ids: dict[str, int] = {}
    async with app.db.session() as session:
        workspace = Workspace(
            key="acme", name="Acme", channel="local", external_id="acme", timezone="Europe/Berlin"
        )
        session.add(workspace)
        await session.flush()
        team = Team(workspace_id=workspace.id or 0, key="leadership", name="Leadership team")
        session.add(team)
        await session.flush()
        ids["team"] = team.id or 0
        people = [(h, "executive") for h in executives] + [("cora", "coach"), ("adam", "admin")]
        for handle, role in people:
            person = Person(
                workspace_id=workspace.id or 0,
                handle=handle,
                name=handle.title(),
                work_days=[0, 1, 2, 3, 4, 5, 6],
                work_start="00:00",
                work_end="23:59",
            )
            session.add(person)
            await session.flush()
            ids[handle] = person.id or 0
            session.add(
                ChatAddress(person_id=person.id or 0, channel="local", address={"inbox": handle})
            )
            session.add(Membership(team_id=team.id or 0, person_id=person.id or 0, role=role))
        program = PulseProgram(
            team_id=team.id or 0,
            key="safety",
            instrument="team_safety",
            privacy=privacy,
            items_per_pulse=items_per_pulse,
            team_sees_results=False,
        )
        session.add(program)
        await session.flush()
        ids["program"] = program.id or 0
    return app, ids


@asynccontextmanager
async def running_org(tmp_path: Path, clock: FakeClock, **options: Any) -> AsyncIterator[Org]:
    app, ids = await build_org(tmp_path, clock, **options)
    client = TestClient(TestServer(build_web_app(app, run_scheduler=False)))
    await client.start_server()
    try:
        yield Org(app=app, client=client, clock=clock, ids=ids)
    finally:
        await client.close()
