"""Digest benchmark: a team of 12 with two years of weekly pulse rounds and weekly
commitment check-ins. How long building a digest takes without the LLM (goal: under
50 ms) and how many database queries it makes (goal: a handful, not one per round).

    python -m bench.digest_bench [--runs 20]

Queries are counted with a SQLAlchemy `before_cursor_execute` listener on the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot.app import Pulsecoach
from bot.settings import Settings
from handlers.digest_build import build_team_part
from handlers.digest_send import DigestOptions, finish, send_digest, summary_request
from handlers.digest_view import digest_message
from handlers.fallback_summary import fallback_summary
from scheduler.clock import FakeClock
from storage import digests
from storage.commitment_models import Commitment, CommitmentCheckIn
from storage.models import Membership, Person, Team, Workspace
from storage.pulse_models import PulseAnswer, PulseComment, PulseInvite, PulseProgram, PulseRound

LEADERS = 12
WEEKS = 104
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ITEMS = (
    "mistakes_held_against",
    "raise_tough_issues",
    "reject_different",
    "safe_to_take_risks",
    "hard_to_ask_for_help",
    "no_undermining",
    "skills_valued",
)
WORDS = "meetings decisions workload trust feedback priorities launch conflict listening".split()


async def populate(app: Pulsecoach) -> int:
    rng = random.Random(7)
    async with app.db.session() as session:
        ws = Workspace(
            key="bench",
            name="Bench",
            channel="local",
            external_id="bench",
            timezone="Europe/Berlin",
        )
        session.add(ws)
        await session.flush()
        team = Team(workspace_id=ws.id or 0, key="leadership", name="Bench leadership")
        session.add(team)
        await session.flush()
        tid = team.id or 0
        people = []
        for n in range(LEADERS + 1):
            role = "coach" if n == LEADERS else "executive"
            person = Person(workspace_id=ws.id or 0, handle=f"p{n}", name=f"Person {n}")
            session.add(person)
            await session.flush()
            session.add(Membership(team_id=tid, person_id=person.id or 0, role=role))
            people.append(person.id or 0)
        program = PulseProgram(team_id=tid, key="safety", instrument="team_safety")
        session.add(program)
        await session.flush()
        start = NOW - timedelta(weeks=WEEKS)
        for week in range(WEEKS):
            closed = start + timedelta(weeks=week, days=3)
            round_ = PulseRound(
                program_id=program.id or 0,
                team_id=tid,
                number=week + 1,
                status="closed",
                item_keys=list(ITEMS),
                privacy="anonymous",
                min_respondents=3,
                min_comments=5,
                opened_at=closed - timedelta(days=3),
                closes_at=closed,
                closed_at=closed,
            )
            session.add(round_)
            await session.flush()
            rid = round_.id or 0
            answered = rng.sample(people[:LEADERS], rng.randint(6, LEADERS))
            for pid in people[:LEADERS]:
                session.add(PulseInvite(round_id=rid, person_id=pid, answered=pid in answered))
            for n in range(len(answered)):
                for item in ITEMS:
                    session.add(
                        PulseAnswer(
                            round_id=rid, respondent=f"r{n}", item_key=item, score=rng.randint(2, 7)
                        )
                    )
            for n in range(rng.randint(0, 4)):
                text = " ".join(rng.sample(WORDS, 4))
                session.add(PulseComment(round_id=rid, respondent=f"r{n}", text=f"About {text}."))
        for pid in people[:LEADERS]:
            commitment = Commitment(
                person_id=pid,
                team_id=tid,
                behaviour="ask for dissent before deciding",
                ends_on=date(2027, 6, 30),
                confirmed_at=start,
                created_at=start,
            )
            session.add(commitment)
            await session.flush()
            for week in range(WEEKS):
                asked = start + timedelta(weeks=week, days=4)
                session.add(
                    CommitmentCheckIn(
                        commitment_id=commitment.id or 0,
                        occurrence=asked.date().isoformat(),
                        asked_at=asked,
                        outcome=rng.choice(["kept", "kept", "partly", "missed", None]),
                    )
                )
        for weeks_ago in range(WEEKS, 0, -6):  # a coaching session every six weeks
            await digests.add_session(
                session, tid, NOW - timedelta(weeks=weeks_ago, hours=-5), "config"
            )
    return people[LEADERS]


async def build_without_llm(app: Pulsecoach, coach: int) -> None:
    part = await build_team_part(app.services, "leadership", NOW, "on_demand", None, [coach])
    follow = part.follow[coach]
    summary = fallback_summary(summary_request(part, sum(f.missed for f in follow)))
    content = finish(part, follow, summary, {"source": "fallback", "reason": "benchmark"})
    digest_message(content, 1, "/charts/digests/1-x.png")


async def measure(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), max(timings)


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(PULSECOACH_DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}")
        app = Pulsecoach.build(settings, clock=FakeClock(NOW))
        await app.db.upgrade()
        coach = await populate(app)
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        event.listen(app.db.engine.sync_engine, "before_cursor_execute", count)
        await build_without_llm(app, coach)  # warm caches (instruments, templates)
        statements.clear()
        await build_without_llm(app, coach)
        queries = len(statements)
        median, worst = await measure(runs, lambda: build_without_llm(app, coach))
        occasion = iter(range(10**6))
        statements.clear()
        send = lambda: send_digest(  # noqa: E731
            app.services,
            "leadership",
            reason="on_demand",
            occasion=f"bench:{next(occasion)}",
            options=DigestOptions(),
        )
        await send()
        send_queries = len(statements)
        send_median, _ = await measure(runs, send)
        await app.db.dispose()
    rows = [
        ("team", f"{LEADERS} leaders, {WEEKS} weekly rounds, {LEADERS * WEEKS} check-ins", ""),
        ("build digest, no LLM (median)", f"{median:.1f} ms", "< 50 ms"),
        ("build digest, no LLM (worst)", f"{worst:.1f} ms", ""),
        ("queries per build", str(queries), "a handful, not one per round"),
        ("send digest: build+store+outbox (median)", f"{send_median:.1f} ms", ""),
        ("queries per send", str(send_queries), ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'digest benchmark':<{width}}  {'figure':<44}  goal")
    for name, figure, goal in rows:
        print(f"{name:<{width}}  {figure:<44}  {goal}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
