"""A Slack organisation of N executives for the Slack benchmarks, seeded in bulk."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import Pulsecoach
from bot.settings import Settings
from scheduler.calendar.clock import Clock
from storage.core.db import async_url
from storage.core.models import ChatAddress, Membership, Person, Team, Workspace
from storage.core.types import utcnow
from storage.pulse.models import PulseProgram
from tests.support.slack.standin import BOT_TOKEN, TEAM

SECRET = "bench-signing-secret"


def user_id(n: int) -> str:
    return f"U{n:07d}"


@asynccontextmanager
async def database(tmp: Path, postgres: str | None) -> AsyncIterator[str]:
    """A fresh database URL: SQLite in `tmp`, or a private database created on the given
    PostgreSQL server (and dropped afterwards)."""
    if not postgres:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"pulsecoach_bench_{os.getpid()}"
    server = create_async_engine(async_url(postgres), isolation_level="AUTOCOMMIT")
    async with server.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        async with server.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await server.dispose()


def settings(database_url: str, api_url: str, posts_per_minute: int | None = None) -> Settings:
    if posts_per_minute:
        os.environ["PULSECOACH_SLACK_POSTS_PER_MINUTE"] = str(posts_per_minute)
    return Settings(
        PULSECOACH_DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
    )


async def seed(app: Pulsecoach, people: int) -> None:
    """One workspace, one team of `people` executives with Slack addresses, a program."""
    await app.db.upgrade()
    now = utcnow()
    async with app.db.session() as session:
        workspace = Workspace(key="acme", name="Acme", channel="slack", external_id=TEAM)
        session.add(workspace)
        await session.flush()
        team = Team(workspace_id=workspace.id or 0, key="leadership", name="Leadership")
        session.add(team)
        await session.flush()
        rows = [
            {
                "workspace_id": workspace.id,
                "handle": f"exec{n}",
                "name": f"Executive {n}",
                "timezone": "Europe/Berlin",
                "locale": "en",
                "work_days": [0, 1, 2, 3, 4, 5, 6],
                "work_start": "00:00",
                "work_end": "23:59",
                "quiet_hours": None,  # any hour: a run must not wait for 08:00
                "created_at": now,
            }
            for n in range(people)
        ]
        await session.exec(insert(Person).execution_options(render_nulls=True), params=rows)  # type: ignore[call-overload]
        ids = [
            p.id
            for p in (await session.exec(Person.__table__.select())).all()  # type: ignore[attr-defined]
        ]
        await session.exec(
            insert(ChatAddress),  # type: ignore[call-overload]
            params=[
                {
                    "person_id": pid,
                    "channel": "slack",
                    "active": True,
                    "updated_at": now,
                    "address": {"user_id": user_id(n), "team_id": TEAM},
                }
                for n, pid in enumerate(ids)
            ],
        )
        await session.exec(
            insert(Membership),  # type: ignore[call-overload]
            params=[{"team_id": team.id, "person_id": pid, "role": "executive"} for pid in ids],
        )
        session.add(
            PulseProgram(
                team_id=team.id or 0, key="safety", instrument="team_safety", window_hours=72
            )
        )


def build(
    database_url: str, api_url: str, clock: Clock | None = None, **options: int
) -> Pulsecoach:
    return Pulsecoach.build(settings(database_url, api_url, **options), clock=clock)
