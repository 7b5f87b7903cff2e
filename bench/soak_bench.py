"""Soak benchmark: mixed Slack traffic held for a while against a running pulsecoach
(scheduler on) while a fan-out of a pulse round goes out to the Slack stand-in.

    python -m bench.soak_bench [--seconds 600] [--people 2000] [--rate 100]
                               [--concurrency 50] [--postgres URL]

The traffic, signed as Slack signs it, over HTTP to `/slack/events` at a steady rate
(100 requests a second: a busy organisation's peak, not a stress test): pulse answer
clicks (block_actions, 70 %), `/pulse help` commands (15 %) and events (15 %: Home
tab opened, a direct message). Posts go at Slack's default pace (600 a minute per
workspace); the answers to the direct messages take 450 of them, so the fan-out of
2,000 gets the rest and lasts longer than the soak: the two overlap throughout. (Paced
any slower, the answers alone would ask more than the limit: replies a person would
wait more than 30 s for are then not sent, `pulsecoach_slack_calls_not_made_total`.)
The server runs in a process of its own, the Slack stand-in in another.

Reports errors (anything but 2xx, or no answer; goal 0), latency percentiles by
kind, requests per second, invites posted during the soak, and the server's resident
memory after the warm-up (a fifth of the run, at least 10 s) against the end: the
growth ratio (goal <= 1.10: no growth after warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import math
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.figures import Figure, emit
from bench.slack_interactions_bench import counters, nearest_rank, spawn, stand_in
from bench.slack_org import SECRET, build, database, seed, user_id
from handlers.pulse.rounds import open_round
from tests.support.slack.helpers import (
    block_action,
    event_body,
    interactive_body,
    signed_headers,
    slash_body,
)

GROWTH_GOAL = 1.10
SENT = 'pulsecoach_outbox_messages_total{channel="slack",outcome="sent"}'
PENDING = "pulsecoach_slack_after_ack_pending"
NOT_MADE = "pulsecoach_slack_calls_not_made_total"


def serve(database_url: str, api_url: str, pipe: Connection) -> None:
    """The server (a child process): pulsecoach with its scheduler, so it sends the
    fan-out while it answers the traffic, at Slack's default pace."""
    logging.basicConfig(level=logging.ERROR)

    async def main() -> None:
        from bot.app import build_web_app

        app = build(database_url, api_url)
        runner = web.AppRunner(build_web_app(app), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        pipe.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def rss_bytes(pid: int | None) -> int:
    """Resident memory of a process (Linux /proc); 0 where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def all(self) -> list[float]:
        return sorted(itertools.chain.from_iterable(self.latencies.values()))


class Traffic:
    """The next request of the mix: (kind, body, content type)."""

    def __init__(self, round_id: int, items: list[str], people: int, standin_url: str) -> None:
        self.round_id, self.items, self.people = round_id, items, people
        self.standin_url = standin_url
        self.n = 0

    def next(self) -> tuple[str, str, str]:
        self.n += 1
        n, person = self.n, self.n % self.people
        user = user_id(person)
        if n % 20 < 14:
            i = (n // self.people) % len(self.items)
            action = block_action(
                user,
                f"pulse.answer#{i + 1}",
                f"{self.round_id}:{self.items[i]}:{1 + n % 7}",
                response_url=f"{self.standin_url}/respond/{person}",
                block_id=f"pulse:{self.round_id}|{i}",
            )
            return "click", interactive_body(action), "application/x-www-form-urlencoded"
        if n % 20 < 17:
            body = slash_body(user, "help", f"{self.standin_url}/respond/{person}")
            return "command", body, "application/x-www-form-urlencoded"
        if n % 2:
            event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
        else:
            event = {"type": "message", "channel_type": "im", "user": user, "channel": f"D{user}"}
            event |= {"text": "help", "ts": f"{time.time():.6f}"}
        return "event", event_body(event, f"Ev{n:08d}"), "application/json"


async def load(
    url: str, traffic: Traffic, concurrency: int, until: float, tally: Tally, rate: float
) -> None:
    """Requests at `rate` a second (each at its own slot: a steady load, not as fast
    as the server goes), up to `concurrency` under way."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    slots = itertools.count()
    began = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            while (at := began + next(slots) / rate) < until:
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                kind, body, content_type = traffic.next()
                headers = signed_headers(body, secret=SECRET) | {"Content-Type": content_type}
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        if not 200 <= response.status < 300:
                            tally.errors[f"{kind} HTTP {response.status}"] += 1
                            continue
                except (aiohttp.ClientError, TimeoutError) as error:
                    tally.errors[f"{kind} {type(error).__name__}"] += 1
                    continue
                tally.add(kind, time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run(
    seconds: float, people: int, concurrency: int, rate: float, postgres: str | None
) -> dict[str, Any]:
    standin_process, standin_url = spawn(stand_in)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with database(Path(tmp), postgres) as url:
                app = build(url, f"{standin_url}/api/")
                await seed(app, people)
                opened = await open_round(app.services, "leadership")  # the fan-out
                await app.db.dispose()
                server, port = spawn(serve, url, f"{standin_url}/api/")
                try:
                    return await soak(
                        server.pid, port, opened.round_id, opened.items, people, standin_url,
                        seconds, concurrency, rate,
                    )  # fmt: skip
                finally:
                    server.terminate()
                    server.join()
    finally:
        standin_process.terminate()


async def soak(
    pid: int | None,
    port: int,
    round_id: int,
    items: list[str],
    people: int,
    standin_url: str,
    seconds: float,
    concurrency: int,
    rate: float,
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    traffic = Traffic(round_id, items, people, standin_url)
    tally = Tally()
    warm_up = max(10.0, seconds / 5)
    started = time.monotonic()
    running = asyncio.create_task(
        load(f"{base}/slack/events", traffic, concurrency, started + seconds, tally, rate)
    )
    samples: list[tuple[float, int]] = []
    pending: list[float] = []  # Slack work acknowledged, not yet done (every 10 s)
    while not running.done():
        samples.append((time.monotonic() - started, rss_bytes(pid)))
        if len(samples) % 10 == 0:
            pending.append((await counters(base)).get(PENDING, 0.0))
        await asyncio.wait([running], timeout=1.0)
    await running
    elapsed = time.monotonic() - started
    after_warm_up = [rss for at, rss in samples if at >= warm_up] or [samples[-1][1]]
    found = await counters(base)
    pending.append(found.get(PENDING, 0.0))
    everything = tally.all()
    by_kind = {
        kind: {
            "requests": len(values),
            "p50 ms": statistics.median(values) * 1000,
            "p99 ms": nearest_rank(sorted(values), 0.99) * 1000,
        }
        for kind, values in sorted(tally.latencies.items())
    }
    return {
        "seconds": elapsed,
        "requests": len(everything) + sum(tally.errors.values()),
        "per second": len(everything) / elapsed,
        "errors": sum(tally.errors.values()),
        "error kinds": dict(tally.errors),
        "p50 ms": nearest_rank(everything, 0.50) * 1000 if everything else math.nan,
        "p95 ms": nearest_rank(everything, 0.95) * 1000 if everything else math.nan,
        "p99 ms": nearest_rank(everything, 0.99) * 1000 if everything else math.nan,
        "by kind": by_kind,
        "invites posted": found.get(SENT, 0.0),
        "people": people,
        "pending end": pending[-1],
        "pending max": max(pending),
        "not made": {k.split('"')[1]: v for k, v in found.items() if k.startswith(NOT_MADE) and v},
        "rss warm MiB": after_warm_up[0] / 2**20,
        "rss end MiB": after_warm_up[-1] / 2**20,
        "rss max MiB": max(after_warm_up) / 2**20,
    }


def report(result: dict[str, Any]) -> tuple[str, list[Figure]]:
    growth = result["rss end MiB"] / result["rss warm MiB"] if result["rss warm MiB"] else 0.0
    lines = [
        f"{result['seconds']:.0f} s of mixed traffic, {result['requests']} requests "
        f"({result['per second']:.0f}/s), while a round for {result['people']} people went "
        f"out: {result['invites posted']:.0f} invites posted meanwhile",
        f"errors: {result['errors']} {result['error kinds'] or ''} (goal 0)",
        f"latency ms: p50 {result['p50 ms']:.1f}  p95 {result['p95 ms']:.1f}  "
        f"p99 {result['p99 ms']:.1f}",
    ]
    for kind, figures in result["by kind"].items():
        lines.append(
            f"  {kind:<8} {figures['requests']:>7} requests  p50 {figures['p50 ms']:.1f}"
            f"  p99 {figures['p99 ms']:.1f}"
        )
    lines.append(
        f"Slack work acknowledged, not yet done: {result['pending end']:.0f} at the end "
        f"(most {result['pending max']:.0f}); calls not made, their turn too far away: "
        f"{sum(result['not made'].values()):.0f} {result['not made'] or ''}"
    )
    lines.append(
        f"server RSS after warm-up {result['rss warm MiB']:.1f} MiB, at the end "
        f"{result['rss end MiB']:.1f} MiB (max {result['rss max MiB']:.1f}): growth "
        f"{growth:.3f} (goal <= {GROWTH_GOAL:.2f})"
    )
    name = f"soak ({result['seconds']:.0f} s)"
    figures = [
        Figure(name, "errors", result["errors"], goal="0", met=result["errors"] == 0),
        Figure(name, "requests per second", result["per second"], "/s"),
        Figure(name, "latency p50", result["p50 ms"], "ms"),
        Figure(name, "latency p95", result["p95 ms"], "ms"),
        Figure(name, "latency p99", result["p99 ms"], "ms"),
        Figure(
            name,
            "RSS at the end vs after warm-up",
            result["rss end MiB"],
            "MiB",
            baseline=result["rss warm MiB"],
            goal=f"ratio <= {GROWTH_GOAL:.2f}",
            met=growth <= GROWTH_GOAL,
        ),
        Figure(name, "invites posted meanwhile", result["invites posted"]),
        Figure(name, "Slack work waiting at the end", result["pending end"]),
    ]
    return "\n".join(lines), figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long to hold it")
    parser.add_argument("--people", type=int, default=2000, help="the fan-out's invites")
    parser.add_argument("--rate", type=float, default=100.0, help="requests a second")
    parser.add_argument("--concurrency", type=int, default=50, help="under way at most")
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(args.seconds, args.people, args.concurrency, args.rate, args.postgres))
    text, figures = report(result)
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(text, flush=True)
    emit(figures)


if __name__ == "__main__":
    main()
