"""Slack interactions benchmark: signed `block_actions` clicks (pulse answers) posted
over HTTP to `/slack/events` at a concurrency of 50, against pulsecoach and, side by
side, a bare bolt app that only acks.

    python -m bench.slack_interactions_bench [--people 500] [--concurrency 50] [--rounds 3]

Each server runs in a process of its own (the load and the Slack stand-in in this
one). Reports p50/p99 ack latency and answers stored per second (for the bare app:
acks per second). Goals: p99 under 50 ms; at least half the bare app's throughput,
judged on the medians of several rounds (this machine's speed drifts between runs).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing
import os
import re
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlmodel import func, select

from bench.figures import Figure, emit
from bench.slack_org import SECRET, build, database, seed, user_id
from handlers.pulse.rounds import open_round
from storage.core.db import Database
from storage.pulse.models import PulseOpenAnswer
from tests.support.slack.helpers import block_action, interactive_body, signed_headers
from tests.support.slack.standin import BOT_TOKEN, SlackStandIn


def nearest_rank(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values: the smallest value with at least
    `share` of them at or below it (p99 of 150 values is the 149th, not the 148th)."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# ---------------------------------------------------------------- the servers (children)


def _bare_app(api_url: str) -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        token=BOT_TOKEN, signing_secret=SECRET, client=AsyncWebClient(BOT_TOKEN, base_url=api_url)
    )

    @bolt.action(re.compile(".*"))
    async def only_ack(ack: Any) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    return web_app


def _pulsecoach_app(database_url: str, api_url: str) -> web.Application:
    from bot.app import build_web_app

    # No scheduler, so no roster job: the roster is not what is measured.
    return build_web_app(build(database_url, api_url), run_scheduler=False)


def serve(kind: str, database_url: str, api_url: str, profile: str, pipe: Connection) -> None:
    logging.basicConfig(level=logging.ERROR)
    if profile:  # written when the parent stops this process
        import cProfile
        import signal
        import sys

        profiler = cProfile.Profile()

        def stop(*_: Any) -> None:
            profiler.disable()
            profiler.dump_stats(f"{profile}/{kind}.prof")
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        profiler.enable()

    async def main() -> None:
        web_app = _bare_app(api_url) if kind == "bare" else _pulsecoach_app(database_url, api_url)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        pipe.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def stand_in(pipe: Connection) -> None:
    """The Slack stand-in in a process of its own: its work (answering response URLs)
    must not slow the process that measures the acks."""

    async def main() -> None:
        standin = await SlackStandIn().start()
        pipe.send(standin.url)
        await asyncio.Event().wait()

    asyncio.run(main())


def spawn(target: Any, *args: Any) -> tuple[multiprocessing.process.BaseProcess, Any]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child), daemon=True)
    process.start()
    return process, parent.recv()


# ---------------------------------------------------------------- the load


async def load(url: str, clicks: list[str], concurrency: int) -> tuple[list[float], float, float]:
    """Post every click; latencies of the acks, and the start and end of the run."""
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in clicks:
        queue.put_nowait(body)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                headers = signed_headers(body, secret=SECRET)
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, started, time.perf_counter()


async def stored(db: Database) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(PulseOpenAnswer))).one())


async def all_stored(database_url: str, expected: int, deadline: float) -> float:
    """When the server's process has stored every answer (it works after the acks)."""
    db = Database(database_url)
    try:
        while time.perf_counter() < deadline:
            if await stored(db) >= expected:
                break
            await asyncio.sleep(0.02)
        return time.perf_counter()
    finally:
        await db.dispose()


async def counters(base: str) -> dict[str, float]:
    """The server's own counters (Prometheus text), by sample name and labels."""
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as response:
        text = await response.text()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


UPDATES = 'pulsecoach_message_updates_total{{channel="slack",outcome="{}"}}'


async def all_updated(base: str, expected: int, deadline: float) -> tuple[float, dict[str, float]]:
    """When every click's message update was sent or superseded by a newer one."""
    while True:
        found = await counters(base)
        handled = found.get(UPDATES.format("sent"), 0) + found.get(UPDATES.format("superseded"), 0)
        if handled >= expected or time.perf_counter() > deadline:
            return time.perf_counter(), found
        await asyncio.sleep(0.02)


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far; 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    kind: str,
    database_url: str,
    api_url: str,
    clicks: list[str],
    concurrency: int,
    profile: str = "",
) -> dict[str, float]:
    process, port = spawn(serve, kind, database_url, api_url, profile)
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        warm = await load(url, clicks[:concurrency], concurrency)  # first auth.test etc.
        await asyncio.sleep(1.0)  # let the warm-up's work finish
        cpu_before = cpu_seconds(process.pid)
        latencies, started, ended = await load(url, clicks[concurrency:], concurrency)
        done = updated = ended
        extra: dict[str, float] = {}
        if kind == "pulsecoach":
            done = await all_stored(database_url, len(clicks), ended + 120)
            base = f"http://127.0.0.1:{port}"
            updated, found = await all_updated(base, len(clicks), done + 120)
            commits = found.get("pulsecoach_answer_commits_total", 0)
            extra = {
                "updates sent": found.get(UPDATES.format("sent"), 0),
                "updates superseded": found.get(UPDATES.format("superseded"), 0),
                "answers per commit": len(clicks) / commits if commits else 0.0,
            }
        cpu = cpu_seconds(process.pid) - cpu_before
        del warm
    finally:
        process.terminate()
        process.join()
    latencies.sort()
    measured = len(clicks) - concurrency
    return {
        "p50 ms": statistics.median(latencies) * 1000,
        "p99 ms": nearest_rank(latencies, 0.99) * 1000,
        "per second": measured / (done - started),
        "updated per second": measured / (updated - started),
        "cpu ms per click": 1000 * cpu / measured,
        **extra,
    }


async def run(
    people: int, concurrency: int, postgres: str | None, rounds: int = 3, profile: str = ""
) -> list[dict[str, dict[str, float]]]:
    """`rounds` side-by-side measurements, each on a fresh database; who goes first
    alternates, so a drift of the machine's speed favours neither."""
    standin_process, standin_url = spawn(stand_in)
    api_url = f"{standin_url}/api/"
    results = []
    try:
        for n in range(rounds):
            with tempfile.TemporaryDirectory() as tmp:
                async with database(Path(tmp), postgres) as url:
                    results.append(
                        await compare(
                            url, api_url, standin_url, people, concurrency, n % 2 == 1, profile
                        )
                    )
    finally:
        standin_process.terminate()
    return results


BARE, OURS = "bare bolt app (acks only)", "pulsecoach (answers stored)"


async def compare(
    database_url: str,
    api_url: str,
    standin_url: str,
    people: int,
    concurrency: int,
    ours_first: bool = False,
    profile: str = "",
) -> dict[str, dict[str, float]]:
    app = build(database_url, api_url)
    await seed(app, people)
    opened = await open_round(app.services, "leadership")
    await app.db.dispose()
    clicks = [
        interactive_body(
            block_action(
                user_id(n),
                f"pulse.answer#{i + 1}",
                f"{opened.round_id}:{item}:{1 + n % 7}",
                response_url=f"{standin_url}/respond/{n}",
                block_id=f"pulse:{opened.round_id}|{i}",
            )
        )
        for i, item in enumerate(opened.items)
        for n in range(people)
    ]
    results: dict[str, dict[str, float]] = {}
    for kind in ("pulsecoach", "bare") if ours_first else ("bare", "pulsecoach"):
        name = OURS if kind == "pulsecoach" else BARE
        results[name] = await measure(kind, database_url, api_url, clicks, concurrency, profile)
    return results


def table(rounds: list[dict[str, dict[str, float]]], clicks: int) -> str:
    """Each round's figures, then the medians; the goals judged on the medians."""
    width = max(len(BARE), len(OURS)) + 4
    lines = [
        f"{'server':<{width}}  {'p50 ms':>8}  {'p99 ms':>8}  {'per second':>10}"
        f"  {'CPU ms/click':>12}",
        "-" * (width + 48),
    ]
    for n, results in enumerate(rounds, start=1):
        for name in (BARE, OURS):
            figures = results[name]
            lines.append(
                f"{f'{n}. {name}':<{width}}  {figures['p50 ms']:>8.1f}"
                f"  {figures['p99 ms']:>8.1f}  {figures['per second']:>10.0f}"
                f"  {figures['cpu ms per click']:>12.2f}"
            )
    shares = [r[OURS]["per second"] / r[BARE]["per second"] for r in rounds]
    share = statistics.median(shares)
    p99 = statistics.median(r[OURS]["p99 ms"] for r in rounds)
    last = rounds[-1][OURS]
    lines += [
        "",
        f"clicks: {clicks} per server per round, at the given concurrency",
        f"pulsecoach, last round: every message update done at {last['updated per second']:.0f}"
        f" clicks/s; updates sent {last['updates sent']:.0f}, superseded by a newer one"
        f" before sending {last['updates superseded']:.0f};"
        f" {last['answers per commit']:.1f} answers per transaction",
        f"throughput share of the bare app, by round: {', '.join(f'{x:.0%}' for x in shares)}",
        f"goal p99 < 50 ms: {'met' if p99 < 50 else 'NOT met'} (median {p99:.1f} ms)",
        f"goal >= 50% of the bare app's throughput: {'met' if share >= 0.5 else 'NOT met'}"
        f" (median {share:.0%})",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500, help="each answers 7 items")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=3, help="side-by-side measurements")
    parser.add_argument("--profile", default="", help="write cProfile stats of each server here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    results = asyncio.run(
        run(args.people, args.concurrency, args.postgres, args.rounds, args.profile)
    )
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(table(results, args.people * 7), flush=True)
    name = f"slack clicks ({'PostgreSQL' if args.postgres else 'SQLite'})"
    ours = statistics.median(r[OURS]["per second"] for r in results)
    bare = statistics.median(r[BARE]["per second"] for r in results)
    p99 = statistics.median(r[OURS]["p99 ms"] for r in results)
    emit(
        [
            Figure(name, "answers stored per second vs bare bolt acks", ours, "/s", bare,
                   "ratio >= 0.5", ours >= 0.5 * bare),
            Figure(name, "ack latency p99", p99, "ms", goal="< 50 ms", met=p99 < 50),
        ]
    )  # fmt: skip


if __name__ == "__main__":
    main()
