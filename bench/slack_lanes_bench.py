"""Slack lanes across processes: a round opened at once for W workspaces of P people
each (one team each), sent by 1, 2 and 3 sender processes on one PostgreSQL against
the strict Slack stand-in (every workspace its own chat.postMessage limit). Each
process takes its fair share of the workspaces' lanes (lane leases).

    python -m bench.slack_lanes_bench [--workspaces 50] [--people 200] [--limit 200]
                                      [--processes 1,2,3] [--postgres URL]

Each run: the workers start and say they are alive, the rounds open (not timed), then
the workers are told to go; the wall time runs until every invite is sent, as a ratio
to one workspace's minimum (people / limit minutes). Goals: ratio <= 1.10 with enough
processes, no workspace ever answered 429 (never over its limit), none lost or twice.
The default limit (200 a minute, a third of Slack's usual post pace) keeps the total
(W x limit = 10,000 posts a minute) within reach of two shared cores.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from slack_sdk.oauth.installation_store import Bot
from sqlalchemy import insert, text

from bench.figures import Figure, emit
from bot.app import Pulsecoach
from bot.settings import Settings
from bot.slack.crypto import Sealer
from bot.slack.install_store import DatabaseInstallationStore
from handlers.pulse.rounds import open_round
from storage.core.db import Database
from storage.core.models import ChatAddress, Membership, Person, Team, Workspace
from storage.core.types import utcnow
from storage.pulse.models import PulseProgram
from tests.support.slack.standin import SlackStandIn

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CLIENT = ("bench-client", "bench-client-secret")
KEY = "bench-secret-key-bench-secret-key"


def team_id(w: int) -> str:
    return f"TL{w:03d}"


def settings(url: str, api_url: str, limit: int) -> Settings:
    os.environ["PULSECOACH_SLACK_POSTS_PER_MINUTE"] = str(limit)
    return Settings(
        PULSECOACH_DATABASE_URL=url,
        SLACK_CLIENT_ID=CLIENT[0],
        SLACK_CLIENT_SECRET=CLIENT[1],
        PULSECOACH_SECRET_KEY=KEY,
        SLACK_SIGNING_SECRET="bench-signing-secret",
        SLACK_API_URL=api_url,
    )


async def seed(url: str, workspaces: int, people: int) -> None:
    db = Database(url)
    await db.upgrade()
    now = utcnow()
    store = DatabaseInstallationStore(db, Sealer(KEY), client_id=CLIENT[0])
    for w in range(workspaces):
        async with db.session() as session:
            workspace = Workspace(
                key=f"w{w}", name=f"W{w}", channel="slack", external_id=team_id(w)
            )
            session.add(workspace)
            await session.flush()
            team = Team(workspace_id=workspace.id or 0, key=f"lead{w}", name=f"Lead {w}")
            session.add(team)
            await session.flush()
            rows = [
                {
                    "workspace_id": workspace.id,
                    "handle": f"w{w}p{n}",
                    "name": f"P{n}",
                    "timezone": "UTC",
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
            found = await session.exec(
                Person.__table__.select().where(Person.__table__.c.workspace_id == workspace.id)  # type: ignore[attr-defined]
            )
            ids = [p.id for p in found.all()]
            await session.exec(
                insert(ChatAddress),  # type: ignore[call-overload]
                params=[
                    {
                        "person_id": pid,
                        "channel": "slack",
                        "active": True,
                        "updated_at": now,
                        "address": {"user_id": f"U{w:03d}{n:05d}", "team_id": team_id(w)},
                    }
                    for n, pid in enumerate(ids)
                ],
            )
            await session.exec(
                insert(Membership),  # type: ignore[call-overload]
                params=[{"team_id": team.id, "person_id": p, "role": "executive"} for p in ids],
            )
            session.add(
                PulseProgram(
                    team_id=team.id or 0, key="s", instrument="team_safety", window_hours=72
                )
            )
        await store.async_save_bot(
            Bot(
                app_id="A1",
                enterprise_id=None,
                team_id=team_id(w),
                bot_token=f"xoxb-lanes-{w}",
                bot_id=f"B{w}",
                bot_user_id=f"UB{w}",
                installed_at=time.time(),
            )
        )
    await db.dispose()


async def worker(url: str, api_url: str, limit: int, go: Path) -> None:
    """One sending process: alive at once, sending once `go` exists, until killed."""
    app = Pulsecoach.build(settings(url, api_url, limit))
    while not go.exists():  # noqa: ASYNC240 - a bench worker, nothing else to block
        await app.sender.leases.heartbeat()
        await asyncio.sleep(0.3)
    while True:
        await app.sender.drain()
        await asyncio.sleep(0.2)


async def sent(db: Database) -> int:
    async with db.engine.connect() as connection:
        query = "SELECT count(*) FROM outbox_message WHERE kind = 'pulse' AND status = 'sent'"
        return int((await connection.execute(text(query))).scalar() or 0)


async def run(processes: int, workspaces: int, people: int, limit: int, postgres: str) -> dict:
    from bench.slack_org import database

    standin = await SlackStandIn().start()
    standin.strict(posts_per_minute=limit)
    for w in range(workspaces):
        standin.add_team(team_id(w), f"W{w}", f"xoxb-lanes-{w}")
    with tempfile.TemporaryDirectory() as tmp:
        async with database(Path(tmp), postgres) as url:
            await seed(url, workspaces, people)
            go = Path(tmp) / "go"
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("PULSECOACH_", "SLACK_"))
            }
            workers = [
                subprocess.Popen(  # noqa: ASYNC220 - before the timed part
                    [
                        sys.executable,
                        "-m",
                        "bench.slack_lanes_bench",
                        "--worker",
                        url,
                        standin.api_url,
                        str(limit),
                        str(go),
                    ],
                    env=env,
                )
                for _ in range(processes)
            ]
            try:
                app = Pulsecoach.build(settings(url, standin.api_url, limit), channels=False)
                for w in range(workspaces):
                    await open_round(app.services, f"lead{w}")
                total = workspaces * people
                go.touch()
                started = time.perf_counter()
                while await sent(app.db) < total:
                    assert all(p.poll() is None for p in workers), "a worker died"
                    await asyncio.sleep(0.2)
                wall = time.perf_counter() - started
                await app.db.dispose()
            finally:
                for p in workers:
                    p.kill()
                    p.wait()
    await standin.stop()
    posts = standin.of("chat.postMessage")
    per_team: dict[str, list[float]] = defaultdict(list)
    for call in posts:
        if call.status == 200:
            per_team[str(call.team)].append(call.at)
    busiest = max(_busiest(times, 60.0) for times in per_team.values())
    received = Counter(len(dm) for dm in standin.messages.values())
    minimum = people / limit * 60
    return {
        "processes": processes,
        "wall s": wall,
        "minimum s": minimum,
        "ratio": wall / minimum,
        "posts": len(posts),
        "answered 429": sum(1 for c in standin.calls if c.status == 429),
        "busiest workspace minute": busiest,
        "lost": workspaces * people - sum(received.values()) + received.get(0, 0),
        "sent twice": sum(n for k, n in received.items() if k > 1),
    }


def _busiest(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--people", type=int, default=200, help="per workspace")
    parser.add_argument("--limit", type=int, default=200, help="posts a minute per workspace")
    parser.add_argument("--processes", default="1,2,3", help="sender processes, per run")
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL server URL")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.worker:
        url, api_url, limit, go = args.worker
        asyncio.run(worker(url, api_url, int(limit), Path(go)))
        return
    print(
        f"{args.workspaces} workspaces x {args.people} people, {args.limit} posts a minute "
        f"each; goal: ratio <= 1.10 with enough processes, 0 answered 429, 0 lost / twice"
    )
    header = (
        "processes",
        "wall s",
        "minimum s",
        "ratio",
        "answered 429",
        "busiest workspace minute",
        "lost",
        "sent twice",
    )
    print("  ".join(f"{h:>12}" for h in header), flush=True)
    for n in [int(p) for p in args.processes.split(",")]:
        result = asyncio.run(run(n, args.workspaces, args.people, args.limit, args.postgres))
        cells = [result[h] for h in header]
        print(
            "  ".join(f"{c:>12.2f}" if isinstance(c, float) else f"{c:>12}" for c in cells),
            flush=True,
        )
        name = f"slack lanes ({args.workspaces} x {args.people}, {n} processes)"
        emit(
            [
                Figure(name, "wall vs one workspace's minimum", result["wall s"], "s",
                       result["minimum s"], "ratio <= 1.10 with enough processes"),
                Figure(name, "answered 429", result["answered 429"], goal="0",
                       met=result["answered 429"] == 0),
                Figure(name, "lost or sent twice", result["lost"] + result["sent twice"],
                       goal="0", met=result["lost"] + result["sent twice"] == 0),
            ]
        )  # fmt: skip


if __name__ == "__main__":
    main()
