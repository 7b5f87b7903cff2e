"""`pulsecoach pulse …`: open, close and read pulse rounds from the shell."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from bot.core.events import Refused

if TYPE_CHECKING:
    from bot.essentials import Essentials
    from bot.settings import Settings


def cli_form(said: str) -> str:
    """Chat commands the shell has too, as typed in the shell (`pulse close leadership`
    -> `pulsecoach pulse close leadership`)."""
    return re.sub(r"`(pulse (?:send|close|results) [^`]*)`", r"`pulsecoach \1`", said)


def add_pulse_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pulse = sub.add_parser("pulse", help="pulse rounds: send, close, results")
    verbs = pulse.add_subparsers(dest="pulse_command", required=True, metavar="ACTION")
    send = verbs.add_parser("send", help="open a round for TEAM now")
    send.add_argument("team")
    send.add_argument("--program", help="program key (default: the team's first)")
    send.add_argument("--test-to", metavar="HANDLE", help="test-send to this person only")
    send.set_defaults(run=_send)
    close = verbs.add_parser("close", help="close TEAM's open round now")
    close.add_argument("team")
    close.set_defaults(run=_close)
    results = verbs.add_parser("results", help="print TEAM's results and trend")
    results.add_argument("team")
    results.add_argument("--json", action="store_true", help="machine-readable output")
    results.add_argument("--rounds", type=int, default=12, help="how many rounds (default 12)")
    results.set_defaults(run=_results)


async def run_command(settings: Settings, work: Any) -> int:
    from bot.cli.main import with_app

    async def guarded(app: Essentials) -> int:
        try:
            return int(await work(app))
        except Refused as refused:
            print(f"error: {cli_form(str(refused))}", file=sys.stderr)
            return 1

    return await with_app(settings, guarded)


async def _send(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.pulse.rounds import open_round
    from storage.core import directory

    async def work(app: Essentials) -> int:
        requested_by = None
        if args.test_to:
            async with app.db.session() as session:
                person = await directory.local_person(session, args.test_to)
                person = person or await directory.person_by_handle(session, args.test_to)
            if person is None:
                raise Refused(f"There is no person {args.test_to!r}.")
            requested_by = person.id
        opened = await open_round(
            app.services,
            args.team,
            kind="test" if args.test_to else "manual",
            requested_by=requested_by,
            program_key=args.program,
        )
        print(
            f"round {opened.number} of {opened.team} open until "
            f"{opened.closes_at:%Y-%m-%d %H:%M} UTC"
        )
        print(f"items: {', '.join(opened.items)}")
        shown = ", ".join(opened.invited[:12]) + (" …" if len(opened.invited) > 12 else "")
        print(f"sent to {len(opened.invited)}: {shown}")
        for handle, local in opened.later.items():  # outside their hours now
            print(f"{handle} gets it at {local:%a %d %b %H:%M} their time ({local.tzinfo})")
        for handle, why in opened.left_out.items():
            print(f"not sent to {handle}: {why}")
        return 0

    return await run_command(settings, work)


async def _close(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.pulse.close import close_team_round

    async def work(app: Essentials) -> int:
        closed = await close_team_round(app.services, args.team)
        print(f"closed the pulse for {closed.team}: {closed.answered} of {closed.invited} answered")
        for handle in closed.paused:
            print(f"paused {handle} after three unanswered pulses")
        return 0

    return await run_command(settings, work)


async def _results(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.pulse.results import results_json, results_message, team_results

    async def work(app: Essentials) -> int:
        results = await team_results(app.services, args.team, limit=args.rounds)
        if args.json:
            print(json.dumps(results_json(results), indent=2, ensure_ascii=False))
            return 0
        message = results_message(results, with_chart=False)
        for block in message.blocks:
            print(plain_text(block))
        return 0

    return await run_command(settings, work)


def plain_text(block: Any) -> str:
    """A terminal rendering of a neutral block."""
    kind = block.type
    if kind == "text":
        return block.text.upper() if block.style == "heading" else block.text
    if kind == "fields":
        return "\n".join(f"  {f.label:<22} {f.value}" for f in block.fields)
    if kind == "context":
        return "\n".join(f"  {line}" for line in block.lines)
    return ""
