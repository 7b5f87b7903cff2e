"""The local channel: its Messenger (delivering means writing to the person's web chat)
and its entry on the server (the web page and its JSON API, bot/local/api.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channel import Wiring
from bot.core.messages import Message
from bot.core.messenger import Delivery
from storage.channels import local_inbox
from storage.core.db import Database

if TYPE_CHECKING:
    from scheduler.runtime.jobs import SystemJob


class LocalMessenger:
    channel = "local"
    paced = False  # the local chat has no rate limit: every process delivers

    def __init__(self, db: Database) -> None:
        self.db = db

    async def deliver(self, person_id: int, address: dict[str, Any], message: Message) -> Delivery:
        async with self.db.session() as session:
            # A redelivery after a crash between delivering and marking sent shows nothing
            # twice: delivery to the local chat is idempotent.
            stored = await local_inbox.upsert(
                session,
                person_id,
                message.ref,
                "bot",
                message.model_dump(mode="json"),
                same_is_noop=True,
            )
        return Delivery(external_ref={"local_message_id": stored.id})


class LocalChannel:
    """The local web chat on this server (see bot/channel.py): loopback only."""

    name = "local"

    def __init__(self, wiring: Wiring) -> None:
        self.db = wiring.db
        self.router = wiring.router
        self.messenger = LocalMessenger(wiring.db)

    def mount(self, web_app: web.Application) -> None:
        from bot.local import api

        api.setup(web_app, self.db, self.router)

    def system_jobs(self) -> Sequence[SystemJob]:
        return ()
