"""`pulsecoach digest …`: send a coach digest now, or preview one in the terminal."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from bot.cli.pulse import plain_text, run_command

if TYPE_CHECKING:
    from bot.essentials import Essentials
    from bot.settings import Settings


def add_digest_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    digest = sub.add_parser("digest", help="coach digests: send now, preview")
    verbs = digest.add_subparsers(dest="digest_command", required=True, metavar="ACTION")
    send = verbs.add_parser("send", help="send TEAM's digest to its coaches now (via the outbox)")
    send.add_argument("team")
    send.set_defaults(run=_send)
    show = verbs.add_parser(
        "show",
        help="preview exactly what `digest send` would send TEAM's coach now; "
        "stores and sends nothing",
    )
    show.add_argument("team")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.add_argument("--coach", help="the coach (handle) to preview for; default the first")
    show.add_argument(
        "--llm",
        action="store_true",
        help="accepted for old scripts: the preview always uses the configured model, as send does",
    )
    show.set_defaults(run=_show)


async def _send(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.digests.commands import demand_occasion
    from handlers.digests.send import configured, send_digest

    async def work(app: Essentials) -> int:
        sent = await send_digest(
            app.services,
            args.team,
            reason="on_demand",
            occasion=await demand_occasion(app.services, args.team),
            options=configured(app.services),
        )
        for s in sent:
            summary = "LLM summary" if s.source == "llm" else f"fallback summary ({s.reason})"
            state = "queued" if s.created else "already sent (this hour, no new round)"
            print(f"digest #{s.digest_id} to {s.coach}: {state}, {summary}")
        print("the running server's sender delivers queued messages")
        return 0

    return await run_command(settings, work)


async def _show(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.digests.send import configured, preview_digest
    from handlers.digests.view import digest_message

    async def work(app: Essentials) -> int:
        # The same builder as `digest send`, with the same model and options.
        content = await preview_digest(
            app.services, args.team, configured(app.services), coach=args.coach
        )
        if args.json:
            print(json.dumps(content.model_dump(mode="json"), indent=2, ensure_ascii=False))
            return 0
        for block in digest_message(content, 0).blocks:
            if line := plain_text(block):
                print(line)
        return 0

    return await run_command(settings, work)
