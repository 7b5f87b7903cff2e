"""What every handler is given (`Services`), and what each feature package offers the
router and the scheduler (`Feature`). Handlers never see a chat platform, an adapter or
the settings: what they need from outside comes in `Services`, built once in bot/app.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from bot.core.events import ActionEvent, Refused, Reply, TextEvent
from bot.core.messages import Message
from prompts.instruments import Instrument
from prompts.texts import text
from scheduler.calendar.clock import Clock
from scheduler.calendar.fired import Fired
from storage.core.db import Database
from storage.core.schedule_models import ScheduleEntry

if TYPE_CHECKING:  # feature modules import this one: no feature import at run time
    from handlers.digests.summarizer import Summarizer
    from handlers.pulse.answers import AnswerDesk


@dataclass
class Services:
    db: Database
    clock: Clock
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    # Absolute links (digest charts) start with it; "" keeps them relative to the page.
    public_url: str = ""
    # The digests' LLM port (an adapter from bot/llm/); None: the fallback summary only.
    summarizer: Summarizer | None = None

    @cached_property
    def answers(self) -> AnswerDesk:
        """Pulse clicks, stored a batch at a time (one desk per Services: it owns the
        batching). Made on first use: a read command never loads it."""
        from handlers.pulse.answers import AnswerDesk

        return AnswerDesk(self.db, self.instruments)


ActionHandler = Callable[[Services, ActionEvent], Awaitable[Reply]]
CommandHandler = Callable[[Services, TextEvent, list[str]], Awaitable[Reply]]
FireOne = Callable[[Services, ScheduleEntry, datetime], Awaitable[Fired]]
# Many due entries of one kind at once: a result (or the error) for each, in order.
FireMany = Callable[
    [Services, Sequence[ScheduleEntry], datetime], Awaitable[list[Fired | Exception]]
]
# A feature's cards on a person's home view, by the roles they hold.
HomeCards = Callable[[Services, int, set[str]], Awaitable[list[Message]]]


@dataclass(frozen=True)
class ScheduledKind:
    """A kind of schedule entry and the function that fires one due occurrence."""

    kind: str
    fire: FireOne
    fire_many: FireMany | None = None


@dataclass(frozen=True)
class FeatureJob:
    """Work the scheduler leader runs every `seconds` (planning, closing due rounds)."""

    name: str
    seconds: float
    run: Callable[[Services], Awaitable[object]]


@dataclass(frozen=True)
class Feature:
    """What a feature package offers: its buttons, its typed verbs, its scheduled kinds
    and its leader jobs. Each package's `feature` module defines one `FEATURE`
    (home's `__init__`)."""

    name: str
    actions: Mapping[str, ActionHandler] = field(default_factory=dict)
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
    scheduled: tuple[ScheduledKind, ...] = ()
    jobs: tuple[FeatureJob, ...] = ()
    home_cards: HomeCards | None = None


# Refusals every feature gives the same way, worded in prompts/messages.


def which_team(command: str, team_keys: Sequence[str] = ()) -> Refused:
    """The person must name the team: the hint is the very command they typed, with
    one of their own teams (`pulse close leadership`, `schedule leadership`)."""
    keys = sorted(team_keys)
    example = f"{command} {keys[0] if keys else 'TEAM'}"
    if len(keys) > 1:
        return Refused(text("refused.which_team.several", teams=", ".join(keys), example=example))
    return Refused(text("refused.which_team", example=example))


def no_team(team_key: str) -> Refused:
    return Refused(text("refused.no_team", team=team_key))
