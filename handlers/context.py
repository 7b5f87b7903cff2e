"""What every handler is given: the database and the clock (and, as capabilities
grow, their registries). Handlers never see a chat platform."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bot.core.events import ActionEvent, Reply, TextEvent
from handlers.pulse.answers import AnswerDesk
from prompts.instruments import Instrument
from scheduler.calendar.clock import Clock
from storage.core.db import Database


@dataclass
class Services:
    db: Database
    clock: Clock
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    # Pulse clicks, stored a batch at a time (one per process: it owns the batching).
    answers: AnswerDesk = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.answers = AnswerDesk(self.db, self.instruments)


ActionHandler = Callable[[Services, ActionEvent], Awaitable[Reply]]
CommandHandler = Callable[[Services, TextEvent, list[str]], Awaitable[Reply]]
