"""The local web chat: personas, the page and its JSON API, on loopback only. On by
default while no chat platform is configured (`PULSECOACH_LOCAL_CHANNEL` overrides)."""

from __future__ import annotations

from bot.channel import Channel, ChannelEntry, Wiring
from bot.settings import Settings


def _enabled(settings: Settings) -> bool:
    return settings.local_enabled


def _build(wiring: Wiring) -> Channel:
    from bot.local.channel import LocalChannel

    return LocalChannel(wiring)


ENTRY = ChannelEntry(name="local", enabled=_enabled, build=_build)
