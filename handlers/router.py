"""Routes neutral events to the feature that owns them."""

from __future__ import annotations

from bot.core.events import ActionEvent, Reply, TextEvent, UnknownAction
from handlers import commitments, contracts, digests, home, pulse
from handlers.context import ActionHandler, CommandHandler, Feature, Services

FEATURES: tuple[Feature, ...] = (
    home.FEATURE,
    pulse.FEATURE,
    commitments.FEATURE,
    contracts.FEATURE,
    digests.FEATURE,
)


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
        command = self.commands.get(verb, self.commands["help"])
        return await command(self.services, event, words[1:])
