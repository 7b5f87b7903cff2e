"""A pulse round fanned out to N Teams users of one tenant through the Connector
stand-in: shared by the fan-out test and the benchmark."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from sqlmodel import func, select

from bot.app import Pulsecoach
from bot.settings import Settings
from bot.teams.channel import TeamsChannel
from handlers.pulse.rounds import open_round
from storage.core.models import (
    ChatAddress,
    Membership,
    OutboxMessage,
    OutboxStatus,
    Person,
    Team,
    Workspace,
)
from storage.pulse.models import PulseProgram
from tests.support.teams.connector import BOT_ID, TENANT, ConnectorStandIn


def build(database_url: str, per_second: float) -> tuple[Pulsecoach, TeamsChannel]:
    settings = Settings(
        PULSECOACH_DATABASE_URL=database_url,
        PULSECOACH_TEAMS="dev",
        PULSECOACH_TEAMS_SENDS_PER_SECOND=per_second,
    )
    app = Pulsecoach.build(settings)
    channel = next(c for c in app.channels if c.name == "teams")
    assert isinstance(channel, TeamsChannel)
    return app, channel


def reference(i: int, service_url: str) -> dict[str, object]:
    return {
        "user": {"id": f"29:user-{i}", "aadObjectId": f"aad-{i}"},
        "bot": {"id": BOT_ID, "name": "pulsecoach"},
        "conversation": {"id": f"a:user-{i}", "conversationType": "personal", "tenantId": TENANT},
        "channelId": "msteams",
        "serviceUrl": service_url,
    }


async def seed(app: Pulsecoach, people: int, service_url: str) -> None:
    await app.db.upgrade()
    async with app.db.session() as session:
        workspace = Workspace(key="contoso", name="Contoso", channel="teams", external_id=TENANT)
        session.add(workspace)
        await session.flush()
        team = Team(workspace_id=workspace.id or 0, key="leadership", name="Leadership")
        session.add(team)
        await session.flush()
        persons = [
            Person(
                workspace_id=workspace.id or 0,
                handle=f"p{i}",
                name=f"Person {i}",
                work_days=[0, 1, 2, 3, 4, 5, 6],
                work_start="00:00",
                work_end="23:59",
                quiet_hours=None,
            )
            for i in range(people)
        ]
        session.add_all(persons)
        await session.flush()
        for i, person in enumerate(persons):
            session.add(
                ChatAddress(
                    person_id=person.id or 0,
                    channel="teams",
                    address={"aad_object_id": f"aad-{i}", "reference": reference(i, service_url)},
                )
            )
            session.add(
                Membership(team_id=team.id or 0, person_id=person.id or 0, role="executive")
            )
        session.add(PulseProgram(team_id=team.id or 0, key="safety", instrument="team_safety"))


async def pending(app: Pulsecoach) -> int:
    async with app.db.session() as session:
        query = select(func.count()).where(
            OutboxMessage.kind == "pulse", OutboxMessage.status == OutboxStatus.PENDING
        )
        return int((await session.exec(query)).one())


@dataclass
class FanOut:
    people: int
    seconds: float
    lost: int
    doubled: int
    throttled: int
    bad_gateway: int
    failed: int


async def fan_out(
    app: Pulsecoach, standin: ConnectorStandIn, people: int, give_up: float = 600.0
) -> FanOut:
    opened = await open_round(app.services, "leadership")
    assert len(opened.invited) == people
    started = time.perf_counter()
    while await pending(app):
        await app.sender.drain()
        await asyncio.sleep(0.05)  # the runtime drains every second; retries come due
        if time.perf_counter() - started > give_up:
            break
    seconds = time.perf_counter() - started
    cards = Counter(s.conversation for s in standin.sent if s.card is not None)
    async with app.db.session() as session:
        failed = int(
            (
                await session.exec(
                    select(func.count()).where(OutboxMessage.status == OutboxStatus.FAILED)
                )
            ).one()
        )
    return FanOut(
        people=people,
        seconds=seconds,
        lost=sum(1 for i in range(people) if cards[f"a:user-{i}"] == 0),
        doubled=sum(max(0, n - 1) for n in cards.values()),
        throttled=standin.status_count(429),
        bad_gateway=standin.status_count(502),
        failed=failed,
    )
