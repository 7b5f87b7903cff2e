"""`pulsecoach demo`: the bundled demo organisation, applied idempotently."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.demo.commitments import seed_commitments
from bot.demo.history import open_demo_round, seed_pulse_history
from handlers.config.apply import apply_file

if TYPE_CHECKING:
    from bot.app import Pulsecoach

ORGANISATION = Path(__file__).parent / "organisation.yaml"


async def load_demo(app: Pulsecoach) -> list[str]:
    """Apply the demo organisation; returns what changed, for the console."""
    report = await apply_file(app.db, ORGANISATION, actor="demo")
    lines = report.changes or ["demo organisation already loaded"]
    lines += await seed_pulse_history(app)
    lines += await open_demo_round(app)
    lines += await seed_commitments(app)
    return lines
