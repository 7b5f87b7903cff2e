"""`pulsecoach forget PERSON [--yes]`: erase a person's personal data (issue #13)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from bot.cli.pulse import run_command

if TYPE_CHECKING:
    from bot.essentials import Essentials
    from bot.settings import Settings


def add_forget_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    forget = sub.add_parser(
        "forget",
        help="erase a person's personal data (profile, addresses, chat history, messages, "
        "invites, commitments and reflections, confidential answers)",
    )
    forget.add_argument("person", help="the person's handle")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.set_defaults(run=_forget)


async def _forget(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.home.forget import forget, preview_forget

    async def work(app: Essentials) -> int:
        found = await preview_forget(app.services, args.person)
        print(f"forgetting {args.person} removes:")
        for line in found.lines() or ["nothing but the profile"]:
            print(f"  {line}")
        if not args.yes:
            ask = f"type {args.person} to confirm: "
            answer = await asyncio.to_thread(input, ask) if sys.stdin.isatty() else ""
            if answer.strip() != args.person:
                print("not confirmed: nothing was removed", file=sys.stderr)
                return 1
        done = await forget(app.services, args.person, "cli")
        print(f"forgot {args.person}: {', '.join(done.lines())}")
        return 0

    return await run_command(settings, work)
