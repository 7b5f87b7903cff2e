"""What every unit of pulsecoach work needs and nothing more: the settings, the
database, the clock and the handlers' services. A CLI command builds only this (no
channel, router, scheduler or HTTP server is even imported: a read command answers in
a fraction of a second); bot/app.py's `Pulsecoach` adds the rest for `serve`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.settings import Settings
from handlers.context import Services
from prompts.instruments import load_instruments
from scheduler.calendar.clock import Clock, SystemClock
from storage.core.db import Database

if TYPE_CHECKING:
    from handlers.digests.summarizer import Summarizer


@dataclass
class Essentials:
    """The settings, database, clock and services of one process."""

    settings: Settings
    db: Database
    clock: Clock
    services: Services

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Essentials:
        db = Database(settings.effective_database_url)
        clock = clock or SystemClock()
        dirs = [d for d in settings.instrument_dirs.split(":") if d]
        services = Services(
            db=db,
            clock=clock,
            instruments=load_instruments(dirs),
            public_url=settings.public_url,
            summarizer=_summarizer(settings, db, clock),
        )
        return cls(settings=settings, db=db, clock=clock, services=services)

    async def aclose(self) -> None:
        """Close what was opened: the model client and the database."""
        closing = getattr(self.services.summarizer, "aclose", None)
        if closing is not None:
            await closing()
        await self.db.dispose()


def _summarizer(settings: Settings, db: Database, clock: Clock) -> Summarizer | None:
    if not settings.llm_enabled:
        return None  # openai is not even imported: the fallback summary only
    from bot.llm.summarizer import summarizer_from_settings

    # The breaker's state is in the database: every process and CLI run shares it.
    return summarizer_from_settings(settings, db, clock)
