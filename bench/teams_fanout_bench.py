"""Teams fan-out benchmark: a pulse round opened for N Teams users of one tenant,
delivered by the outbox sender and the Teams Messenger (continue_conversation, the
real Bot Connector client) to the local Connector stand-in, which answers a share of
sends with 429 (Retry-After) and a share with 502 (nothing posted); optionally a share
of posts is taken and then answered 502 (`--lost-answers`: the answer lost).

    python -m bench.teams_fanout_bench [--people 1000] [--per-second 30]
                                       [--throttle 0.02] [--bad-gateway 0.02]
                                       [--lost-answers 0]

Reports wall time as a ratio to the minimum the per-tenant limit allows (N / sends per
second), the sends answered 429 and 502, and cards lost and sent twice.
Goals: none lost, ratio <= 1.5 (a 502's retry waits its jittered 5-10 s, which the
tail of a run pays in full), and none sent twice but those whose answer was lost:
Teams has no idempotency key, so each of those is sent again (docs/teams.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from pathlib import Path

from bench.figures import Figure, emit
from tests.support.teams.connector import ConnectorStandIn, Faults
from tests.support.teams.fanout import build, fan_out, seed


async def run(
    people: int, per_second: float, throttle: float, bad_gateway: float, lost_answers: float = 0.0
) -> dict[str, float]:
    faults = Faults(throttle=throttle, bad_gateway=bad_gateway, taken_then_502=lost_answers)
    standin = await ConnectorStandIn(faults).start()
    with tempfile.TemporaryDirectory() as tmp:
        app, _ = build(f"sqlite:///{Path(tmp) / 'bench.db'}", per_second)
        await seed(app, people, standin.url)
        result = await fan_out(app, standin, people)
        await app.db.dispose()
    await standin.stop()
    minimum = people / per_second
    return {
        "people": people,
        "sends per second (tenant)": per_second,
        "wall s": result.seconds,
        "minimum s": minimum,
        "ratio": result.seconds / minimum,
        "answered 429": result.throttled,
        "answered 502": result.bad_gateway,
        "failed": result.failed,
        "taken, answer lost": standin.taken_then_lost,
        "lost": result.lost,
        "sent twice": result.doubled,
    }


def table(result: dict[str, float]) -> str:
    twice = result["taken, answer lost"]
    goals = {"ratio": "<= 1.50", "lost": "0", "sent twice": f"{twice}", "failed": "0"}
    rows = [
        (name, f"{value:.2f}" if isinstance(value, float) else str(value), goals.get(name, ""))
        for name, value in result.items()
    ]
    ok = result["ratio"] <= 1.5 and result["lost"] == result["failed"] == 0
    ok = ok and result["sent twice"] == twice
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':<{width}}  {'measured':>10}  goal", "-" * (width + 24)]
    lines += [f"{n:<{width}}  {v:>10}  {g}" for n, v, g in rows]
    lines.append(f"{'all goals met':<{width}}  {'yes' if ok else 'NO':>10}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--per-second", type=float, default=30.0, help="sends per tenant")
    parser.add_argument("--throttle", type=float, default=0.02, help="share answered 429")
    parser.add_argument("--bad-gateway", type=float, default=0.02, help="share answered 502")
    parser.add_argument(
        "--lost-answers", type=float, default=0.0, help="share of posts taken, then answered 502"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(
        run(args.people, args.per_second, args.throttle, args.bad_gateway, args.lost_answers)
    )
    print(table(result), flush=True)
    name = f"teams fan-out ({args.people} people)"
    emit(
        [
            Figure(name, "wall vs the limit's minimum", result["wall s"], "s",
                   result["minimum s"], "ratio <= 1.50", result["ratio"] <= 1.5),
            Figure(name, "lost or sent twice", result["lost"] + result["sent twice"],
                   goal="0", met=result["lost"] + result["sent twice"] == 0),
        ]
    )  # fmt: skip


if __name__ == "__main__":
    main()
