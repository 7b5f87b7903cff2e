"""The Slack channel: every slack_bolt and slack_sdk import of pulsecoach lives here.

`ENTRY` is what bot/app.py walks (see bot/channel.py); the adapter is imported only when
Slack is configured and the channel is built."""

from __future__ import annotations

from bot.channel import Channel, ChannelEntry, Wiring
from bot.settings import Settings


def _enabled(settings: Settings) -> bool:
    return settings.slack_enabled


def _build(wiring: Wiring) -> Channel:
    from bot.slack.mount import SlackMount

    return SlackMount(wiring)


ENTRY = ChannelEntry(name="slack", enabled=_enabled, build=_build)
