"""The seam every chat channel plugs into: one package under `bot/` per channel
(`bot/local/`, `bot/slack/`, `bot/teams/`), each offering the same small interface.

A channel package's `__init__` defines `ENTRY`, a `ChannelEntry`: its name, whether the
settings turn it on, and how to build it from the `Wiring` the composition root
(`bot/app.py`) hands every channel. The `__init__` stays light (no platform SDK import):
`build` imports the adapter, so a CLI command that needs no channel never loads one.

A built `Channel` offers its messenger (the outbox sender's way out), its routes and
start-up/clean-up hooks on the one aiohttp server, and its system jobs (run by the
scheduler runtime on the leader, like the Slack roster refresh).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.core.images import ImageResolver
from bot.core.messenger import Messenger

if TYPE_CHECKING:
    from aiohttp import web

    from bot.settings import Settings
    from handlers.context import Services
    from handlers.router import Router
    from scheduler.calendar.clock import Clock
    from scheduler.runtime.jobs import SystemJob
    from scheduler.runtime.leader import LeaderLock
    from storage.core.db import Database


@dataclass(frozen=True)
class Wiring:
    """What the composition root gives every channel it builds."""

    settings: Settings
    db: Database
    clock: Clock
    services: Services
    router: Router
    lock: LeaderLock  # the scheduler's leader lock: leader-only work checks `lock.held`
    images: ImageResolver  # the bytes behind an `Image.attachment` key (digest charts)


class Channel(Protocol):
    """One channel, built for this process."""

    name: str  # the `ChatAddress.channel` value it delivers to: local, slack, teams

    @property
    def messenger(self) -> Messenger:
        """The outbox sender's way out through this channel."""
        ...

    def mount(self, web_app: web.Application) -> None:
        """Add routes and start-up/clean-up hooks (clean-up runs before the database
        closes)."""
        ...

    def system_jobs(self) -> Sequence[SystemJob]:
        """Jobs the scheduler runs on the leader only (e.g. the roster refresh)."""
        ...


@dataclass(frozen=True)
class ChannelEntry:
    name: str
    enabled: Callable[[Settings], bool]
    build: Callable[[Wiring], Channel]
