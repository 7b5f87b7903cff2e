"""Commands as Slack people type them: the neutral texts write a command as typed in
a direct message (`results leadership`); in Slack the one form that works everywhere
is the slash command (`/pulse results leadership`)."""

from __future__ import annotations

import re

from handlers.router import VERBS

SLASH = "/pulse"
_CODE = re.compile(r"`([^`\n]+)`")


def _slash(match: re.Match[str]) -> str:
    command = match.group(1)
    verb = command.split(maxsplit=1)[0].lower() if command.strip() else ""
    return f"`{SLASH} {command}`" if verb in VERBS else match.group(0)


def slack_form(value: str) -> str:
    """Every `command` in `value` as its slash command; other code spans stay."""
    return _CODE.sub(_slash, value) if "`" in value else value
