"""The App Home tab: a person's home by role (see handlers/home_view.py) as a Home view."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.messages import Message, Text
from bot.slack.render import render_home
from handlers.context import Services
from handlers.home import view as home_view
from prompts.texts import text

log = logging.getLogger(__name__)


def stranger_home() -> list[Message]:
    """For a Slack user pulsecoach does not know: how to get set up."""
    note = text("home.view.unknown")
    return [Message(ref="home", text=note, blocks=(Text(text=note),))]


class Home:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def view(self, person_id: int | None, banner: str | None = None) -> dict[str, object]:
        cards = (
            await home_view.cards_for(self.services, person_id) if person_id else stranger_home()
        )
        return render_home(cards, banner)

    async def publish(
        self, client: AsyncWebClient, user: str, person_id: int | None, banner: str | None = None
    ) -> None:
        await client.views_publish(user_id=user, view=await self.view(person_id, banner))
