"""The local channel's Messenger: delivering means writing to the person's web chat."""

from __future__ import annotations

from typing import Any

from bot.core.messages import Message
from bot.core.messenger import Delivery
from storage.channels import local_inbox
from storage.core.db import Database


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
