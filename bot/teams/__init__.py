"""The Microsoft Teams channel: every botbuilder and botframework import of pulsecoach
lives here, so a move to the Microsoft 365 Agents SDK changes this folder only.

This module stays light (no botbuilder import): `build` loads the adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channel import ChannelEntry

if TYPE_CHECKING:
    from bot.channel import Channel, Wiring
    from bot.settings import Settings


def _enabled(settings: Settings) -> bool:
    return settings.teams_enabled


def _build(wiring: Wiring) -> Channel:
    from bot.teams.channel import TeamsChannel

    return TeamsChannel(wiring)


ENTRY = ChannelEntry(name="teams", enabled=_enabled, build=_build)
