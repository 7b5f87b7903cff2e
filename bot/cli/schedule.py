"""`pulsecoach schedule preview TEAM --days N [--json]`: every planned send per person."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from bot.cli.pulse import run_command

if TYPE_CHECKING:
    from bot.essentials import Essentials
    from bot.settings import Settings


def add_schedule_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schedule = sub.add_parser("schedule", help="planned sends")
    verbs = schedule.add_subparsers(dest="schedule_command", required=True, metavar="ACTION")
    preview = verbs.add_parser(
        "preview", help="every planned send per person, in UTC and local time, with reasons"
    )
    preview.add_argument("team")
    preview.add_argument("--days", type=int, default=14, help="how far ahead (default 14)")
    preview.add_argument("--json", action="store_true", help="machine-readable output")
    preview.set_defaults(run=_preview)


async def _preview(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.pulse.schedule import preview

    if not 1 <= args.days <= 366:
        raise SystemExit("error: --days must be between 1 and 366")

    async def work(app: Essentials) -> int:
        rows = await preview(app.services, args.team, args.days)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "person": r.person,
                            "timezone": r.timezone,
                            "what": r.what,
                            "utc": r.utc.isoformat(),
                            "local": r.local.isoformat(),
                            "moved": list(r.reasons),
                            "skipped": r.skipped,
                        }
                        for r in rows
                    ],
                    indent=2,
                )
            )
            return 0
        print(f"{'person':<10} {'UTC':<17} {'local':<16} {'time zone':<20} {'what':<14} note")
        for r in rows:
            note = "; ".join([*r.reasons, *([f"skipped: {r.skipped}"] if r.skipped else [])])
            print(
                f"{r.person:<10} {r.utc:%Y-%m-%d %H:%M}  {r.local:%a %d %b %H:%M} {r.timezone:<20}"
                f" {r.what:<14} {note}"
            )
        if not rows:
            print(f"nothing planned for {args.team} in the next {args.days} days")
        return 0

    return await run_command(settings, work)
