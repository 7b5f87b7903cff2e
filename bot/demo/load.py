"""`pulsecoach demo`: the bundled demo organisation, loaded into an empty database only,
so running it again never undoes what an admin changed (`--reset` starts over)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.demo.commitments import seed_commitments
from bot.demo.history import open_demo_round, seed_pulse_history
from handlers.config.apply import apply_file
from storage.core import directory

if TYPE_CHECKING:
    from bot.essentials import Essentials

ORGANISATION = Path(__file__).parent / "organisation.yaml"


async def load_demo(app: Essentials, reset: bool = False) -> list[str]:
    """Load the demo organisation into an empty database (with `reset`, after emptying
    it); a database that holds an organisation is left as it is. Returns what it did,
    for the console."""
    if reset:
        await app.db.erase()
    async with app.db.session() as session:
        if await directory.has_workspaces(session):
            return [
                "the database already holds an organisation: serving it as it is "
                "(`pulsecoach demo --reset` starts over with the demo)"
            ]
    report = await apply_file(app.db, ORGANISATION, actor="demo")
    lines = report.changes or ["demo organisation already loaded"]
    lines += await seed_pulse_history(app)
    lines += await open_demo_round(app)
    lines += await seed_commitments(app)
    return lines
