"""Digest benchmark: a team of 12 with two years of weekly pulse rounds, weekly
commitment check-ins and biweekly contract checks. How long building a digest takes
without the LLM (goal: under 50 ms) and how many database queries it makes (goal: a
handful, not one per round) — with a session every six weeks, and with the last session
two years back (every round in the period: the figures load them all, the chart 16).

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

from bench.figures import Figure, emit
from bot.app import Pulsecoach
from bot.settings import Settings
from handlers.digests.send import DigestOptions, compose, send_digest
from handlers.digests.view import digest_message
from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.contracts.models import (
    ContractCheck,
    ContractCheckInvite,
    ContractComment,
    ContractRating,
    ContractVersion,
    TeamContract,
)
from storage.core.models import Membership, Person, Team, Workspace
from storage.digests import queries as digests
from storage.pulse.models import PulseAnswer, PulseComment, PulseInvite, PulseProgram, PulseRound
from tests.support.clock import FakeClock

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
NORMS = ("disagree_openly", "decide_in_the_room", "ask_for_help", "credit_others")
WORDS = "meetings decisions workload trust feedback priorities launch conflict listening".split()


async def populate(app: Pulsecoach, session_every: int = 6) -> int:
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
        await add_contract(session, tid, people[:LEADERS], rng, start)
        for weeks_ago in range(WEEKS, 0, -session_every):  # a coaching session every so often
            await digests.add_session(
                session, tid, NOW - timedelta(weeks=weeks_ago, hours=-5), "config"
            )
    return people[LEADERS]


async def add_contract(
    session: Any, tid: int, leaders: list[int], rng: random.Random, start: datetime
) -> None:
    """A team contract of four norms, checked every two weeks, two norms at a time."""
    contract = TeamContract(team_id=tid, current_version=1)
    session.add(contract)
    await session.flush()
    norms = [{"key": k, "text": k.replace("_", " ").capitalize()} for k in NORMS]
    version = ContractVersion(contract_id=contract.id or 0, version=1, norms=norms)
    session.add(version)
    await session.flush()
    for n in range(WEEKS // 2):
        closed = start + timedelta(weeks=2 * n, days=5)
        check = ContractCheck(
            contract_id=contract.id or 0,
            team_id=tid,
            version_id=version.id or 0,
            number=n + 1,
            status="closed",
            norm_keys=[NORMS[(2 * n) % 4], NORMS[(2 * n + 1) % 4]],
            privacy="anonymous",
            min_respondents=3,
            min_comments=5,
            opened_at=closed - timedelta(days=3),
            closes_at=closed,
            closed_at=closed,
        )
        session.add(check)
        await session.flush()
        cid = check.id or 0
        answered = rng.sample(leaders, rng.randint(2, len(leaders)))
        for pid in leaders:
            session.add(ContractCheckInvite(check_id=cid, person_id=pid, answered=pid in answered))
        for r in range(len(answered)):
            for key in check.norm_keys:
                session.add(
                    ContractRating(
                        check_id=cid, respondent=f"r{r}", norm_key=key, score=rng.randint(1, 5)
                    )
                )
        for r in range(rng.randint(0, 3)):
            text = " ".join(rng.sample(WORDS, 3))
            session.add(ContractComment(check_id=cid, respondent=f"r{r}", text=f"On {text}."))


async def build_without_llm(app: Pulsecoach, coach: int) -> None:
    options = DigestOptions()
    contents = await compose(
        app.services, "leadership", reason="on_demand", options=options, coaches=[coach]
    )
    digest_message(contents[coach], 1, "/charts/digests/1-x.png")


async def measure(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), max(timings)


async def scenario(runs: int, session_every: int) -> dict[str, float]:
    """Build and send timings and query counts with a session every `session_every` weeks."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(PULSECOACH_DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}")
        app = Pulsecoach.build(settings, clock=FakeClock(NOW))
        await app.db.upgrade()
        coach = await populate(app, session_every)
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
    return {
        "median": median,
        "worst": worst,
        "queries": queries,
        "send_median": send_median,
        "send_queries": send_queries,
    }


async def main(runs: int) -> None:
    usual = await scenario(runs, 6)
    # The last session two years ago: every one of the 104 rounds is in the period.
    long = await scenario(runs, WEEKS + 1)
    rows = [
        ("team", f"{LEADERS} leaders, {WEEKS} weekly rounds, {LEADERS * WEEKS} check-ins", ""),
        ("contract", f"{WEEKS // 2} biweekly checks of {len(NORMS)} norms", ""),
        ("build digest, no LLM (median)", f"{usual['median']:.1f} ms", "< 50 ms"),
        ("build digest, no LLM (worst)", f"{usual['worst']:.1f} ms", ""),
        ("queries per build", str(usual["queries"]), "a handful, not one per round"),
        ("send digest: build+store+outbox (median)", f"{usual['send_median']:.1f} ms", ""),
        ("queries per send", str(usual["send_queries"]), ""),
        (f"build, session {WEEKS} rounds ago (median)", f"{long['median']:.1f} ms", "< 50 ms"),
        (f"build, session {WEEKS} rounds ago (worst)", f"{long['worst']:.1f} ms", ""),
        (f"queries per build, session {WEEKS} rounds ago", str(long["queries"]), "the same"),
    ]
    emit(
        [
            Figure("digest", "build, no LLM (median)", usual["median"], "ms", goal="< 50 ms",
                   met=usual["median"] < 50),
            Figure("digest", "queries per build", usual["queries"], goal="a handful"),
            Figure("digest", f"build, session {WEEKS} rounds ago (median)", long["median"], "ms",
                   goal="< 50 ms", met=long["median"] < 50),
        ]
    )  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"{'digest benchmark':<{width}}  {'figure':<44}  goal")
    for name, figure, goal in rows:
        print(f"{name:<{width}}  {figure:<44}  {goal}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
