"""Slack fan-out benchmark: a pulse round opened for N executives of one workspace,
delivered by the outbox sender and the Slack Messenger to the local Slack stand-in,
strict as Slack documents (tests/support/slack/tiers.py: every method's tier per
workspace over a sliding minute -- conversations.open and conversations.history ~50 a
minute --, chat.postMessage per workspace and one a second per channel), which answers
a share of posts with HTTP 500 -- half of those after having posted the message (the
ambiguous case that could send it twice, checked with conversations.*).

    python -m bench.slack_fanout_bench [--people 10000] [--limit 600] [--errors 0.03]
                                       [--posted 0.5]

The default is the issue's full size, 10,000 people: about 17 minutes at 600 per
minute; `--people 1000` is a quick run. Reports wall time as a ratio to the limit's
minimum (N / limit minutes), calls answered 429 and 500 (and how many of the 500s had
posted), and messages lost and sent twice.
Goals: ratio <= 1.10, none lost, none sent twice, under 1% answered 429.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlmodel import func, select

from bench.figures import Figure, emit
from bench.slack_org import build, database, seed, user_id
from handlers.pulse.rounds import open_round
from storage.core.models import OutboxMessage, OutboxStatus
from tests.support.slack.standin import SlackStandIn


async def pending_invites(app: object) -> int:
    async with app.db.session() as session:  # type: ignore[attr-defined]
        query = select(func.count()).where(
            OutboxMessage.kind == "pulse", OutboxMessage.status == OutboxStatus.PENDING
        )
        return int((await session.exec(query)).one())


async def deliver(url: str, api_url: str, people: int, limit: int) -> tuple[float, float]:
    """Seed, open the round, drain the outbox until every invite is out; the seconds
    the opening took and the seconds the sending took."""
    app = build(url, api_url, posts_per_minute=limit)
    await seed(app, people)
    started = time.perf_counter()
    opened = await open_round(app.services, "leadership")
    open_seconds = time.perf_counter() - started
    assert len(opened.invited) == people
    started = time.perf_counter()
    while await pending_invites(app):
        await app.sender.drain()
        await asyncio.sleep(0.2)  # the runtime drains every second; retries come due
    wall = time.perf_counter() - started
    await app.messengers["slack"].link.close()  # type: ignore[attr-defined]
    await app.db.dispose()
    return open_seconds, wall


async def run(
    people: int,
    limit: int,
    errors: float,
    posted: float,
    postgres: str | None,
    scale: float = 1.0,
) -> dict[str, float]:
    """`scale`: the stand-in's tiers run that many times faster than Slack's (a
    scaled-down test, whose app paces its tiers the same way)."""
    standin = await SlackStandIn().start()
    standin.strict(posts_per_minute=limit, scale=scale)
    standin.fail_randomly("chat.postMessage", errors, status=500)
    standin.post_before_failing("chat.postMessage", posted)
    with tempfile.TemporaryDirectory() as tmp:
        async with database(Path(tmp), postgres) as url:
            open_seconds, wall = await deliver(url, standin.api_url, people, limit)
    await standin.stop()
    received = Counter({user_id(n): len(standin.dm(user_id(n))) for n in range(people)})
    first_posts = {}
    for call in standin.of("chat.postMessage", ok=True):
        first_posts.setdefault(call.args.get("channel"), call.at)
    looks = [c.at for c in standin.of("conversations.history")]
    posts = standin.of("chat.postMessage")
    checks = standin.of("conversations.open") + standin.of("conversations.history")
    minimum = people / limit * 60
    return {
        "people": people,
        "limit per minute": limit,
        "open round s": open_seconds,
        "wall s": wall,
        "minimum s": minimum,
        "ratio": wall / minimum,
        "calls": len(standin.calls),
        "posts": len(posts),
        "conversations.* calls": len(checks),
        "answered 429": sum(1 for c in standin.calls if c.status == 429),
        "answered 500": sum(1 for c in posts if c.status == 500),
        "500 that had posted": sum(received.values())
        - len(standin.of("chat.postMessage", ok=True)),
        "lost": sum(1 for n in received.values() if n == 0),
        "sent twice": sum(1 for n in received.values() if n > 1),
        "checked before the last fresh post": int(
            bool(looks) and min(looks) < max(first_posts.values(), default=0.0)
        ),
    }


def table(result: dict[str, float]) -> str:
    rate429 = result["answered 429"] / max(1, result["calls"])
    rows = [
        (name, f"{value:.2f}" if isinstance(value, float) else str(value), "")
        for name, value in result.items()
    ]
    goals = {"ratio": "<= 1.10", "lost": "0", "sent twice": "0", "answered 429": "< 1% of calls"}
    rows = [(n, v, goals.get(n, "")) for n, v, _ in rows]
    rows.append(("429 share", f"{rate429:.2%}", "< 1%"))
    ok = (
        result["ratio"] <= 1.10
        and result["lost"] == 0
        and result["sent twice"] == 0
        and rate429 < 0.01
    )
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':<{width}}  {'measured':>10}  goal", "-" * (width + 24)]
    lines += [f"{n:<{width}}  {v:>10}  {g}" for n, v, g in rows]
    lines.append(f"{'all goals met':<{width}}  {'yes' if ok else 'NO':>10}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10000, help="executives (quick: 1000)")
    parser.add_argument("--limit", type=int, default=600, help="chat.postMessage per minute")
    parser.add_argument("--errors", type=float, default=0.03, help="share answered 500")
    parser.add_argument(
        "--posted", type=float, default=0.5, help="share of the 500s that posted first"
    )
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(args.people, args.limit, args.errors, args.posted, args.postgres))
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(table(result), flush=True)
    name = f"slack fan-out ({args.people} people)"
    share = result["answered 429"] / max(1, result["calls"])
    emit(
        [
            Figure(name, "wall vs the limit's minimum", result["wall s"], "s",
                   result["minimum s"], "ratio <= 1.10", result["ratio"] <= 1.10),
            Figure(name, "lost", result["lost"], goal="0", met=result["lost"] == 0),
            Figure(name, "sent twice", result["sent twice"], goal="0",
                   met=result["sent twice"] == 0),
            Figure(name, "share answered 429", share, goal="< 1%", met=share < 0.01),
        ]
    )  # fmt: skip


if __name__ == "__main__":
    main()
