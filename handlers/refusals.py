"""Refusals every capability gives the same way, worded in prompts/messages."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.events import Refused
from prompts.texts import text


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
