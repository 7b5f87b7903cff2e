"""Routes neutral events to the capability that owns them."""

from __future__ import annotations

from bot.core.events import ActionEvent, Reply, TextEvent, UnknownAction
from handlers.commitments import commands as commitments
from handlers.context import ActionHandler, CommandHandler, Services
from handlers.contracts import commands as contracts
from handlers.digests import commands as digests
from handlers.home import admin
from handlers.home import commands as home
from handlers.home import view as home_view
from handlers.pulse import commands as pulse

CAPABILITIES = (home, pulse, admin, home_view, commitments, contracts, digests)


class Router:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.actions: dict[str, ActionHandler] = {}
        self.commands: dict[str, CommandHandler] = {}
        for module in CAPABILITIES:
            self.actions.update(module.ACTIONS)
            self.commands.update(module.COMMANDS)

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
