"""Carrying out a neutral Reply in a Teams turn.

- update: the clicked card is updated in place (update_activity), newest only per
  card: when a person clicks faster than Teams answers, an update still waiting when
  a newer one arrives is dropped, the newer carries everything. From a dialog, or
  from a text command, the person's card with that ref is updated if they have one.
- notice: a short text message in the personal chat (private: one person and the bot).
- messages: new cards in the chat, each remembered by ref so a later message with
  that ref updates it.
- form: a private Form opens only from an invoke (turns.py answers task/fetch with
  it); asked for in a message turn (a card from before its button opened a dialog),
  it is never put in the chat: the person is told where to find it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import ClientRequestError, DeserializationError, HttpOperationError

from bot.core.events import Reply
from bot.core.messages import Message
from bot.teams.adapter import no_retries
from bot.teams.cards import inert
from bot.teams.messenger import card_activity, status_of
from bot.teams.pacing import Pacer
from prompts.texts import text as say
from storage.channels import teams as teams_store
from storage.core.db import Database

log = logging.getLogger(__name__)
SOFT_ERRORS = (HttpOperationError, ClientRequestError, DeserializationError, OSError, TimeoutError)


@dataclass(frozen=True)
class Where:
    """The conversation of the turn, and the card clicked (if a card was)."""

    tenant: str
    conversation: str
    card_id: str | None = None  # the activity id of the clicked card
    card_ref: str | None = None  # the neutral ref it was rendered from


class Replies:
    def __init__(self, db: Database, pacer: Pacer) -> None:
        self.db = db
        self.pacer = pacer
        self._latest: dict[tuple[int, str], int] = {}  # newest update number per card
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self.superseded = 0

    async def apply(self, context: TurnContext, reply: Reply, person_id: int, where: Where) -> None:
        no_retries(context)
        if reply.form is not None:
            await self.say(context, say("teams.dialog.from_card"), where)
        if reply.update is not None:
            await self._update(context, reply.update, person_id, where)
        if reply.notice:
            await self.say(context, reply.notice, where)
        for message in reply.messages:
            await self.send(context, message, person_id, where)

    async def say(self, context: TurnContext, note: str, where: Where) -> None:
        await self._paced(where)
        try:
            await context.send_activity(Activity(type=ActivityTypes.message, text=inert(note)))
        except SOFT_ERRORS as error:
            log.warning("teams: could not answer: %s", _why(error))

    async def send(
        self, context: TurnContext, message: Message, person_id: int, where: Where
    ) -> None:
        await self._paced(where)
        try:
            sent = await context.send_activity(card_activity(message))
        except SOFT_ERRORS as error:
            log.warning("teams: could not send %s: %s", message.ref, _why(error))
            return
        if sent is not None and sent.id:
            async with self.db.session() as session:
                await teams_store.record_card(
                    session, person_id, message.ref, where.conversation, sent.id
                )

    async def _update(
        self, context: TurnContext, message: Message, person_id: int, where: Where
    ) -> None:
        card_id = where.card_id if where.card_ref in (None, message.ref) else None
        if card_id is None:
            async with self.db.session() as session:
                known = await teams_store.card_of(session, person_id, message.ref)
            card_id = known.activity_id if known is not None else None
        if card_id is None:
            await self.send(context, message, person_id, where)
            return
        key = (person_id, card_id)
        if len(self._locks) > 50_000:  # forget idle cards (a count restarts harmlessly)
            for idle in [k for k, v in self._locks.items() if not v.locked()]:
                self._locks.pop(idle, None)
                self._latest.pop(idle, None)
        number = self._latest[key] = self._latest.get(key, 0) + 1
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if self._latest.get(key) != number:  # a newer click's update will show
                self.superseded += 1
                return
            activity = card_activity(message)
            activity.id = card_id
            await self._paced(where)
            try:
                await context.update_activity(activity)
            except SOFT_ERRORS as error:
                if status_of(error) == 404:  # the card was deleted: post it anew
                    await self.send(context, message, person_id, where)
                else:
                    log.warning("teams: could not update %s: %s", message.ref, _why(error))
                return
        async with self.db.session() as session:
            await teams_store.record_card(
                session, person_id, message.ref, where.conversation, card_id
            )

    async def _paced(self, where: Where) -> None:
        await self.pacer.send_slot(where.tenant, where.conversation)


def _why(error: BaseException) -> str:
    status = status_of(error) if isinstance(error, Exception) else 0
    return f"{type(error).__name__} {status}" if status else type(error).__name__
