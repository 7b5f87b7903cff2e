"""Routes neutral events to the feature that owns them; text nobody understands gets
a clear word and the closest command."""

from __future__ import annotations

import difflib

from bot.core.events import ActionEvent, Reply, TextEvent, UnknownAction
from bot.core.messages import Message, Text
from handlers import home
from handlers.commitments.feature import FEATURE as COMMITMENTS
from handlers.context import ActionHandler, CommandHandler, Feature, Services
from handlers.contracts.feature import FEATURE as CONTRACTS
from handlers.digests.feature import FEATURE as DIGESTS
from handlers.pulse.feature import FEATURE as PULSE
from prompts.texts import text

FEATURES: tuple[Feature, ...] = (
    home.FEATURE,
    PULSE,
    COMMITMENTS,
    CONTRACTS,
    DIGESTS,
)
# Every chat command's first word: channels write hints in their own form from these
# (Slack: `/pulse results`), and unknown text is matched against them.
VERBS: frozenset[str] = frozenset(v for f in FEATURES for v in f.commands)


def closest_command(words: list[str]) -> str | None:
    """The command closest to what was typed (`reslts leadership` -> `results
    leadership`), or None when nothing is close."""
    if not words:
        return None
    match = difflib.get_close_matches(words[0].lower(), sorted(VERBS), n=1, cutoff=0.6)
    return " ".join([match[0], *words[1:]]) if match else None


class Router:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.actions: dict[str, ActionHandler] = {}
        self.commands: dict[str, CommandHandler] = {}
        for feature in FEATURES:
            self.actions.update(feature.actions)
            self.commands.update(feature.commands)

    def knows_action(self, action_id: str) -> bool:
        return action_id in self.actions

    async def on_action(self, event: ActionEvent) -> Reply:
        handler = self.actions.get(event.action_id)
        if handler is None:
            raise UnknownAction(event.action_id)
        return await handler(self.services, event)

    async def on_text(self, event: TextEvent) -> Reply:
        words = event.text.strip().removeprefix("/pulse").split()
        verb = words[0].lower() if words else "help"
        command = self.commands.get(verb)
        if command is not None:
            return await command(self.services, event, words[1:])
        # Not understood: say so first, offer the closest command, then the help.
        helped = await self.commands["help"](self.services, event, [])
        said = " ".join(words)[:80]
        closest = closest_command(words)
        lines = [text("router.not_understood", said=said)]
        lines.append(
            text("router.did_you_mean", command=closest) if closest else text("router.try_help")
        )
        note = "\n".join(lines)
        first = Message(ref="router:not-understood", text=note, blocks=(Text(text=note),))
        return Reply(messages=(first, *helped.messages))
