"""Real server processes: a crash in the middle of a fan-out, and three servers on one
PostgreSQL whose scheduler holder is killed. Every recipient gets exactly one message."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from scheduler.runtime.leader import LOCK_KEY
from storage.core.db import Database
from tests.conftest import reset_postgres
from tests.support.servers import Server, cli, env, now_utc, organisation, start


async def _poll(condition: Callable[[], Any], seconds: float, what: str) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < seconds:
        if await condition():
            return loop.time() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


async def _scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.begin() as connection:
        return (await connection.execute(text(sql), params)).scalar()


async def _pulse_messages(db: Database, team: str) -> tuple[int, int, int]:
    """(people of the team with a pulse message, pulse messages, delivered more than once)."""
    rows = (
        await _scalar(
            db,
            "SELECT count(DISTINCT m.person_id) FROM local_message m "
            "JOIN person p ON p.id = m.person_id WHERE m.ref LIKE 'pulse:%' "
            "AND m.ref NOT LIKE '%:reminder:%' AND p.handle LIKE :t",
            t=f"{team}-%",
        ),
        await _scalar(
            db,
            "SELECT count(*) FROM local_message m JOIN person p ON p.id = m.person_id "
            "WHERE m.ref LIKE 'pulse:%' AND m.ref NOT LIKE '%:reminder:%' AND p.handle LIKE :t",
            t=f"{team}-%",
        ),
        await _scalar(db, "SELECT count(*) FROM local_message WHERE version > 1"),
    )
    return int(rows[0]), int(rows[1]), int(rows[2])


async def test_killed_in_the_middle_of_a_fan_out_every_recipient_gets_one_message(
    tmp_path: Path,
) -> None:
    n = 400
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    environment = env(url)
    config = tmp_path / "org.yaml"
    config.write_text(organisation({"a": n}, now_utc()), encoding="utf-8")
    cli(environment, "apply", str(config))
    cli(environment, "pulse", "send", "a")  # the fan-out: n invites in the outbox
    db = Database(url)
    server = start(environment, tmp_path / "serve.log")
    try:

        async def partly_sent() -> bool:
            return 0 < (await _pulse_messages(db, "a"))[1]

        await _poll(partly_sent, 30, "the fan-out to begin")
        server.kill()
        at_kill = (await _pulse_messages(db, "a"))[1]
        assert 0 < at_kill < n, f"kill landed outside the fan-out ({at_kill} of {n} sent)"
        server = start(environment, tmp_path / "serve.log")

        async def all_sent() -> bool:
            return (await _pulse_messages(db, "a"))[0] == n

        await _poll(all_sent, 120, "every recipient after the restart")
        await asyncio.sleep(1)  # anything doubled would show up now
        assert await _pulse_messages(db, "a") == (n, n, 0)
        assert (
            await _scalar(
                db, "SELECT count(*) FROM outbox_message WHERE kind = 'pulse' AND status = 'sent'"
            )
            == n
        )
        assert await _scalar(db, "SELECT count(*) FROM outbox_message WHERE status = 'failed'") == 0
    finally:
        server.stop()
        await db.dispose()


async def test_three_servers_on_postgres_one_scheduler_and_a_takeover(tmp_path: Path) -> None:
    url = await reset_postgres()
    environment = env(url)
    due = now_utc()
    config = tmp_path / "org.yaml"
    config.write_text(organisation({"a": 40, "b": 40}, due), encoding="utf-8")
    cli(environment, "apply", str(config))
    db = Database(url)
    servers: list[Server] = [start(environment, tmp_path / f"serve-{i}.log") for i in range(3)]
    try:

        async def holder() -> int | None:
            name = await _scalar(
                db,
                "SELECT a.application_name FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objid = :key AND l.granted",
                key=LOCK_KEY,
            )
            return int(name.split(":")[1]) if name else None

        await _poll(holder, 30, "a scheduler leader")
        leader_pid = await holder()
        leader = next(s for s in servers if s.pid == leader_pid)

        async def trigger(team: str) -> None:
            # The team's program is due this minute (as if its cadence had come round).
            await _scalar(
                db,
                "UPDATE schedule_entry SET due_at = now(), occurrence = :day WHERE kind = 'pulse' "
                "AND subject_id = (SELECT p.id FROM pulse_program p "
                "JOIN team t ON t.id = p.team_id WHERE t.key = :team) RETURNING id",
                day=due.date().isoformat(),
                team=team,
            )

        async def planned() -> bool:
            return (
                await _scalar(db, "SELECT count(*) FROM schedule_entry WHERE due_at > '2000-01-01'")
                == 2
            )

        await _poll(planned, 30, "both programs planned")
        await trigger("a")

        async def team_done(team: str) -> Callable[[], Any]:
            async def done() -> bool:
                return (await _pulse_messages(db, team))[0] == 40

            return done

        await _poll(await team_done("a"), 60, "team a's pulse")
        leader.kill()
        took = await _poll(
            lambda: _other_holder(holder, leader.pid), 30, "another server to take over"
        )
        assert took < 30
        await trigger("b")
        await _poll(await team_done("b"), 60, "team b's pulse after the takeover")
        await asyncio.sleep(1.5)
        assert await _pulse_messages(db, "a") == (40, 40, 0)
        assert await _pulse_messages(db, "b") == (40, 40, 0)
        assert await _scalar(db, "SELECT count(*) FROM pulse_round") == 2
    finally:
        for server in servers:
            server.stop()
        await db.dispose()


async def _other_holder(holder: Callable[[], Any], old: int) -> bool:
    current = await holder()
    return current is not None and current != old
