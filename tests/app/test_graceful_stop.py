"""SIGTERM and SIGINT stop a real `pulsecoach serve` gracefully, in the middle of a
Slack fan-out against the strict stand-in (10 posts a second): exit 0 within the
bound, nothing claimed left behind, SQLite checkpointed (no -wal file), the leader
lock released; a restarted server sends the rest, everyone exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from scheduler.runtime.leader import LOCK_KEY
from storage.core.db import Database
from tests.conftest import reset_postgres
from tests.scheduler.test_fencing import organisation
from tests.support.servers import Server, cli, env, start, wait_for
from tests.support.slack.standin import BOT_TOKEN, SlackStandIn

PEOPLE = 150  # 15 s at Slack's pace: a stop lands in the middle
BOUND = 10.0  # PULSECOACH_SHUTDOWN_SECONDS


def slack_env(url: str, standin: SlackStandIn) -> dict[str, str]:
    return env(
        url,
        PULSECOACH_LOCAL_CHANNEL="false",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET="graceful-secret",
        SLACK_API_URL=standin.api_url,
        PULSECOACH_SHUTDOWN_SECONDS=str(BOUND),
        PULSECOACH_LOG_FORMAT="json",
        PULSECOACH_LOG_LEVEL="INFO",
    )


def stop(server: Server, how: signal.Signals) -> float:
    """Send the signal; how long the process took to exit (it must, with 0)."""
    started = time.monotonic()
    server.process.send_signal(how)
    code = server.process.wait(timeout=BOUND + 10)
    assert code == 0, f"exit code {code}"
    return time.monotonic() - started


def events(log: Path) -> list[dict[str, object]]:
    """The server's JSON log lines (other output, like the banner, is not JSON)."""
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


async def _until(condition: object, seconds: float, what: str) -> None:
    for _ in range(int(seconds * 20)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_mid_fan_out_hands_back_its_claims_and_leaves_no_wal(
    tmp_path: Path, how: signal.Signals
) -> None:
    database = tmp_path / "data" / "pulsecoach.db"
    standin = await SlackStandIn().start()
    standin.strict()
    environment = slack_env(f"sqlite:///{database}", standin)
    config = tmp_path / "org.yaml"
    config.write_text(organisation(PEOPLE), encoding="utf-8")
    await asyncio.to_thread(cli, environment, "apply", str(config))
    server = await asyncio.to_thread(start, environment, tmp_path / "s1.log")
    try:
        await asyncio.to_thread(cli, environment, "pulse", "send", "a")
        posted = lambda: len(standin.of("chat.postMessage", ok=True))  # noqa: E731
        await _until(lambda: posted() >= 30, 60, "the fan-out to be under way")
        took = await asyncio.to_thread(stop, server, how)
        assert took < BOUND
        at_stop = posted()
        assert at_stop < PEOPLE  # stopped mid-fan-out
        wal = Path(f"{database}-wal")
        assert not await asyncio.to_thread(wal.exists)  # checkpointed, closed clean

        db = Database(f"sqlite:///{database}")
        try:
            async with db.engine.connect() as connection:
                sent, claimed = (
                    await connection.execute(
                        text(
                            "SELECT sum(status = 'sent'), "
                            "sum(status = 'pending' AND claimed_until IS NOT NULL) "
                            "FROM outbox_message WHERE kind = 'pulse'"
                        )
                    )
                ).one()
        finally:
            await db.dispose()
        assert sent == at_stop  # what was posted is recorded as sent...
        assert claimed == 0  # ...and nothing else stays claimed: any server sends it now

        logged = events(tmp_path / "s1.log")
        said = Counter(str(e.get("event")) for e in logged)
        assert said["server.stopping"] == 1 and said["server.stopped"] == 1
        assert said["fanout.started"] >= 1 and said["fanout.finished"] >= 1
        [stopped] = [e for e in logged if e.get("event") == "server.stopped"]
        assert stopped["clean"] is True

        server = await asyncio.to_thread(start, environment, tmp_path / "s2.log")
        await _until(lambda: posted() >= PEOPLE, 60, "the rest of the fan-out")
        await asyncio.sleep(1.0)  # anything sent twice shows now
        await asyncio.to_thread(stop, server, signal.SIGTERM)
    finally:
        server.stop()
        await standin.stop()
    delivered = Counter(len(messages) for messages in standin.messages.values())
    assert delivered == Counter({1: PEOPLE})  # everyone once


async def test_the_leader_releases_its_lock_on_sigterm(tmp_path: Path) -> None:
    url = await reset_postgres()
    standin = await SlackStandIn().start()
    environment = slack_env(url, standin)
    config = tmp_path / "org.yaml"
    config.write_text(organisation(3), encoding="utf-8")
    await asyncio.to_thread(cli, environment, "apply", str(config))
    db = Database(url)

    async def holder() -> int | None:
        async with db.engine.connect() as connection:
            found = await connection.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.objid = :key AND a.datname = current_database()"
                ),
                {"key": LOCK_KEY},
            )
            name = found.scalar()
        return int(name.split(":")[1]) if name else None

    servers: list[Server] = []
    try:
        for i in range(2):
            servers.append(await asyncio.to_thread(start, environment, tmp_path / f"s{i}.log"))
        leader_pid = None
        for _ in range(100):
            if (leader_pid := await holder()) is not None:
                break
            await asyncio.sleep(0.1)
        leader = next(s for s in servers if s.pid == leader_pid)
        other = next(s for s in servers if s is not leader)
        await asyncio.to_thread(stop, leader, signal.SIGTERM)
        said = [e.get("event") for e in events(tmp_path / f"s{servers.index(leader)}.log")]
        assert "leader.released" in said
        # The other process leads at its next probe (1 s here).
        for _ in range(100):
            if await holder() == other.pid:
                break
            await asyncio.sleep(0.1)
        assert await holder() == other.pid
        await asyncio.to_thread(wait_for, other.healthy, 5, "the new leader to answer")
    finally:
        for server in servers:
            server.stop()
        await db.dispose()
        await standin.stop()
