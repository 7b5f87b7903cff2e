"""The `pulsecoach` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.essentials import Essentials

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulsecoach",
        description="Psychological-safety pulses, commitments and coach digests in chat.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the server: HTTP, channels and scheduler")
    serve.add_argument("--host", help="bind address (default PULSECOACH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PULSECOACH_PORT or 8000)")
    serve.set_defaults(run=_serve)

    demo = sub.add_parser("demo", help="load the demo organisation, then serve it")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--no-serve", action="store_true", help="load the demo and exit")
    demo.add_argument(
        "--reset",
        action="store_true",
        help="empty the database first and load the demo afresh (loses every change)",
    )
    demo.set_defaults(run=_demo)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="migrate the database to the latest schema").set_defaults(
        run=_db_upgrade
    )
    db_sub.add_parser("current", help="print the schema revision").set_defaults(run=_db_current)
    revision = db_sub.add_parser("revision", help="(developers) write a new migration")
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(run=_db_revision)

    apply = sub.add_parser("apply", help="create or update the organisation from a YAML file")
    apply.add_argument("file", type=Path)
    apply.add_argument("--dry-run", action="store_true", help="print what would change")
    apply.set_defaults(run=_apply)

    export = sub.add_parser("export-config", help="write the current organisation as YAML")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(run=_export)

    from bot.cli.pulse import add_pulse_commands
    from bot.cli.schedule import add_schedule_commands

    add_pulse_commands(sub)
    from bot.cli.digest import add_digest_commands

    add_digest_commands(sub)
    add_schedule_commands(sub)
    from bot.cli.teams import add_teams_commands

    add_teams_commands(sub)
    from bot.cli.forget import add_forget_command

    add_forget_command(sub)
    from bot.cli.retention import add_retention_commands

    add_retention_commands(sub)
    return parser


async def with_app(settings: Settings, work: Callable[[Essentials], Awaitable[int]]) -> int:
    """Run `work` with the essentials built and the schema current. No channel,
    router, scheduler or server: commands read or queue, a running server delivers."""
    from bot.essentials import Essentials

    app = Essentials.build(settings)
    try:
        await app.db.ensure_current()
        return await work(app)
    finally:
        await app.aclose()


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.server import serve

    return await serve(settings, host=args.host, port=args.port)


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo.load import load_demo
    from bot.server import serve

    async def load(app: Essentials) -> int:
        for line in await load_demo(app, reset=args.reset):
            print(line)
        return 0

    await with_app(settings, load)
    if args.no_serve:
        return 0
    return await serve(settings, host=args.host, port=args.port, banner="demo")


async def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage.core.db import Database

    db = Database(settings.effective_database_url)
    try:
        await db.upgrade()
        print(f"database at revision {await db.current_revision()}")
    finally:
        await db.dispose()
    return 0


async def _db_current(args: argparse.Namespace, settings: Settings) -> int:
    from storage.core.db import Database

    db = Database(settings.effective_database_url)
    try:
        print(await db.current_revision() or "empty (run `pulsecoach db upgrade`)")
    finally:
        await db.dispose()
    return 0


async def _db_revision(args: argparse.Namespace, settings: Settings) -> int:
    from storage.core.revision import autogenerate

    autogenerate(args.message)
    return 0


async def _apply(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.config.apply import ConfigError, apply_file

    if not args.file.is_file():
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return 2

    async def work(app: Essentials) -> int:
        try:
            report = await apply_file(app.db, args.file, dry_run=args.dry_run)
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        prefix = "would " if report.dry_run else ""
        for change in report.changes:
            print(f"{prefix}{change}")
        if not report.changes:
            print("no changes")
        return 0

    return await with_app(settings, work)


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.config.apply import export_config

    async def work(app: Essentials) -> int:
        text = await export_config(app.db)
        if args.output:
            args.output.write_text(text, encoding="utf-8")
            print(f"wrote {args.output}")
        else:
            sys.stdout.write(text)
        return 0

    return await with_app(settings, work)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = get_settings()
    from bot.logs import configure

    configure(settings.log_level, settings.log_format)
    run: Command = args.run
    try:
        return asyncio.run(run(args, settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
