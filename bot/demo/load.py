"""`pulsecoach demo`: the bundled demo organisation, applied idempotently."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from handlers.config.apply import apply_file

if TYPE_CHECKING:
    from bot.app import Pulsecoach

ORGANISATION = Path(__file__).parent / "organisation.yaml"


async def load_demo(app: Pulsecoach) -> list[str]:
    """Apply the demo organisation; returns what changed, for the console."""
    report = await apply_file(app.db, ORGANISATION, actor="demo")
    return report.changes or ["demo organisation already loaded"]
