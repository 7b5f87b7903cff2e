"""`pulsecoach teams …`: the Teams app package."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings


def add_teams_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    teams = sub.add_parser("teams", help="Microsoft Teams: the app package")
    verbs = teams.add_subparsers(dest="teams_command", required=True, metavar="ACTION")
    package = verbs.add_parser(
        "package", help="write the Teams app package (manifest and icons) for MICROSOFT_APP_ID"
    )
    package.add_argument(
        "-o", "--output", type=Path, default=Path("pulsecoach-teams.zip"), help="zip to write"
    )
    package.set_defaults(run=_package)


async def _package(args: argparse.Namespace, settings: Settings) -> int:
    from bot.teams.package import PackageError, build

    try:
        data = build(settings.microsoft_app_id or "", settings.public_url)
    except PackageError as error:
        print(f"pulsecoach teams package: {error}", file=sys.stderr)
        return 2
    args.output.write_bytes(data)
    print(f"wrote {args.output}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0
