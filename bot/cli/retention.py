"""`pulsecoach retention run [--dry-run]`: purge what each workspace's retention period
has passed (issue #13), as the leader's daily job does; or show what would go."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.pulse import run_command

if TYPE_CHECKING:
    from bot.essentials import Essentials
    from bot.settings import Settings


def add_retention_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    retention = sub.add_parser(
        "retention",
        help="the per-workspace retention period: purge raw answers, comments, reflections, "
        "chat history and digest texts older than it (figures stay)",
    )
    actions = retention.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="purge now, per workspace (the server does it daily)")
    run.add_argument("--dry-run", action="store_true", help="print what would go; remove nothing")
    run.set_defaults(run=_run)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.home.retention import preview, purge

    async def work(app: Essentials) -> int:
        found = await (preview(app.services) if args.dry_run else purge(app.services))
        verb = "would remove" if args.dry_run else "removed"
        for one in found:
            what = "; ".join(one.lines()) or "nothing"
            print(
                f"{one.workspace} (keeps {one.months} months, before {one.before:%Y-%m-%d}): "
                f"{verb} {what}"
            )
        if not found:
            print("no workspaces")
        return 0

    return await run_command(settings, work)
