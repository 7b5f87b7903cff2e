"""Fencing, with real `pulsecoach serve` processes on PostgreSQL and the strict Slack
stand-in: in the middle of a fan-out the process sending it is frozen (SIGSTOP: a long
pause, a swapped-out VM) and every database connection it had is terminated
(pg_terminate_backend), so the other process becomes the scheduler leader and, once
the frozen one's lane lease has run out, sends the rest. Thawed, the old sender sends
nothing on its old lease: that ran out by its own clock. Counted at the stand-in, by
the User-Agent of each post: the two processes' posts never overlap in time, no second
holds more posts than one workspace's pace allows, and everyone gets one message."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from storage.core.db import Database
from tests.conftest import reset_postgres
from tests.support.servers import Server, cli, env, start
from tests.support.slack.standin import BOT_TOKEN, TEAM, SlackStandIn

PEOPLE = 250  # 25 s at Slack's 10 posts a second
LEASE = 4.0


def organisation(n: int) -> str:
    lines = [
        "workspaces:",
        f"  - {{key: acme, name: Acme, channel: slack, external_id: {TEAM}, timezone: UTC}}",
        "people:",
    ]
    for i in range(n):
        lines.append(
            f"  - {{handle: p{i}, workspace: acme, name: P{i}, timezone: UTC, "
            f"chat: {{slack: {{user_id: U{i:05d}}}}}, working_hours: {{days: [mon, tue, wed, "
            "thu, fri, sat, sun], start: '00:00', end: '23:59', quiet: off}}"
        )
    members = ", ".join(f"p{i}" for i in range(n))
    lines += [
        "teams:",
        f"  - {{key: a, workspace: acme, name: A, members: {{executive: [{members}]}}}}",
        "programs:",
        "  - {key: s, workspace: acme, team: a, instrument: team_safety, "
        "cadence: {weekday: mon, at: '09:00'}}",
    ]
    return "\n".join(lines) + "\n"


async def _until(condition: object, seconds: float, what: str) -> None:
    for _ in range(int(seconds * 20)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_frozen_sender_cut_off_from_the_database_never_overlaps_its_successor(
    tmp_path: Path,
) -> None:
    url = await reset_postgres()
    standin = await SlackStandIn().start()
    standin.strict()
    environment = env(
        url,
        PULSECOACH_LOCAL_CHANNEL="false",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET="fencing-secret",
        SLACK_API_URL=standin.api_url,
        PULSECOACH_LANE_LEASE_SECONDS=str(LEASE),
    )
    config = tmp_path / "org.yaml"
    config.write_text(organisation(PEOPLE), encoding="utf-8")
    await asyncio.to_thread(cli, environment, "apply", str(config))
    db = Database(url)
    servers: list[Server] = []
    try:
        for i in range(2):
            servers.append(await asyncio.to_thread(start, environment, tmp_path / f"s{i}.log"))
        await asyncio.to_thread(cli, environment, "pulse", "send", "a")

        def posts() -> list[str]:
            return [c.agent for c in standin.of("chat.postMessage", ok=True)]

        await _until(lambda: len(posts()) >= 40, 60, "the fan-out to be under way")
        pid = int(posts()[-1].split("/")[1].split(".")[0])
        frozen = next(s for s in servers if s.pid == pid)
        os.kill(pid, signal.SIGSTOP)
        try:
            async with db.engine.begin() as connection:
                await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": f"pulsecoach:{pid}"},
                )
            at_freeze = len(posts())
            await _until(
                lambda: any(f"/{pid}." not in a for a in posts()[at_freeze:]),
                LEASE + 20,
                "the other process to take the lane over",
            )
            await asyncio.sleep(1.0)
        finally:
            os.kill(pid, signal.SIGCONT)
        await _until(lambda: len(posts()) >= PEOPLE, 90, "every invite")
        await asyncio.sleep(2.0)  # anything the thawed process still sent shows now
        assert frozen.process.poll() is None  # it survived, and merely stopped sending
    finally:
        for server in servers:
            server.stop()
        await db.dispose()
        await standin.stop()

    calls = standin.of("chat.postMessage")
    assert all(c.status == 200 for c in calls), Counter(c.status for c in calls)
    # Runs of one sender's posts, in the order Slack saw them. The lane may change hands
    # again later (the thawed process may take it back, lawfully, once its successor
    # released it: rows its cut-off drain had claimed come due after their lease), but
    # runs never overlap: a stale post inside the successor's run would make two
    # changes less than one slot (0.1 s at 10 posts a second) from their neighbours.
    runs = [list(run) for _, run in itertools.groupby(calls, lambda c: c.agent.split(".")[0])]
    assert len(runs) >= 2, "the other process never took over"
    gaps = [later[0].at - earlier[-1].at for earlier, later in itertools.pairwise(runs)]
    assert gaps[0] >= 1.0  # the successor waited out the frozen process's lease
    assert min(gaps) >= 0.08, f"the senders interleaved: gaps {gaps}"
    assert f"/{pid}." in runs[0][0].agent and len(runs[0]) >= at_freeze
    times = sorted(c.at for c in calls)
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= 12  # one workspace's pace (10 a second), with a post of jitter
    delivered = Counter(len(messages) for messages in standin.messages.values())
    assert delivered == Counter({1: PEOPLE})  # everyone once
