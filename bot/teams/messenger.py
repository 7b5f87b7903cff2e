"""The Teams Messenger: proactive cards through `continue_conversation` on the stored
conversation reference; a message whose ref the person already has updates that
card in place (update_activity). Paced per conversation and per tenant (pacing.py),
and failures sorted into "try again" and "this address is gone":

- 403 (the bot is not in the conversation's roster: uninstalled, or blocked) and 404
  on a post (the conversation is gone): permanent; the sender marks the address
  inactive with the reason, which the admin view shows.
- 429: the pace; its Retry-After (up to 10 % added), or else an exponential wait with
  full jitter, holds the conversation and the tenant.
- 412, 502, 504, other 5xx, timeouts, a gateway's error page: this message is tried
  again after an exponential wait with full jitter (anywhere in 5-10 s, then 5-20 s,
  5-40 s, ... at most 30 min), while the tenant's other messages go on; the outbox
  gives up after its maximum of attempts.

Teams gives a bot no way to make a post idempotent (no client key, no way to list
what it posted in a chat), so a post whose outcome is unknown (a 502 or a timeout
after the Connector took it) cannot be looked for: it is sent again, and the person
may see the card twice. tests/teams/test_retries.py shows it and the benchmark
counts doubles.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference
from msrest.exceptions import ClientRequestError, DeserializationError, HttpOperationError

from bot.core.images import ImageResolver
from bot.core.messages import Message
from bot.core.messenger import Delivery, PermanentDeliveryError, TemporaryDeliveryError
from bot.teams import cards
from bot.teams.adapter import no_retries
from bot.teams.pacing import Pacer, after, jittered
from storage.channels import teams as teams_store
from storage.core.db import Database

log = logging.getLogger(__name__)

RETRY = {412, 429, 500, 502, 503, 504}
GONE = {403}
RETRY_BASE = 5.0  # seconds: the first retry of a failed post, doubling (jittered)
RETRY_CAP = 1800.0
NOT_INSTALLED = "teams: no conversation yet (the app is not installed for this person)"
FORBIDDEN = "teams: 403, the bot is not in the conversation (uninstalled or blocked)"


def card_activity(message: Message) -> Activity:
    """A message as one Adaptive Card; `summary` is what notifications show."""
    return Activity(
        type=ActivityTypes.message,
        summary=message.text[:200] if message.text else None,
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=cards.render(message))],
    )


def status_of(error: Exception) -> int:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else 0


def retry_after(error: Exception) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    try:
        value = headers.get("Retry-After")
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


class TeamsMessenger:
    channel = "teams"
    paced = True  # Teams' limits are per tenant: the leader alone sends (Messenger)

    def __init__(
        self,
        adapter: CloudAdapter,
        db: Database,
        app_id: str,
        pacer: Pacer,
        images: ImageResolver | None = None,
    ) -> None:
        self.adapter = adapter
        self.db = db
        self.app_id = app_id
        self.pacer = pacer
        self.images = images
        self.attempts: dict[tuple[int, str], int] = {}  # for the jittered waits
        self.retry_base = RETRY_BASE

    async def deliver(self, person_id: int, address: dict[str, Any], message: Message) -> Delivery:
        raw = address.get(teams_store.REFERENCE)
        if not isinstance(raw, dict) or not raw.get("serviceUrl"):
            raise PermanentDeliveryError(NOT_INSTALLED)
        reference = ConversationReference().deserialize(raw)
        conversation = reference.conversation.id if reference.conversation else ""
        tenant = str((raw.get("conversation") or {}).get("tenantId") or "")
        async with self.db.session() as session:
            known = await teams_store.card_of(session, person_id, message.ref)
        activity = card_activity(message)
        key = (person_id, message.ref)
        await self.pacer.send_slot(tenant, conversation)
        try:
            activity_id = await self._send(
                reference, activity, known.activity_id if known else None
            )
        except HttpOperationError as error:
            raise self._classify(error, key, tenant, conversation, known is not None) from None
        except (ClientRequestError, TimeoutError, OSError) as error:
            raise self._later(key, f"teams: {type(error).__name__}") from None
        except DeserializationError:  # a gateway's error page: the Connector never answered
            raise self._later(key, "teams: an answer that is no Connector JSON") from None
        except _CardGone:
            async with self.db.session() as session:
                await teams_store.forget_card(session, person_id, message.ref)
            return await self.deliver(person_id, address, message)
        self.attempts.pop(key, None)
        async with self.db.session() as session:
            await teams_store.record_card(
                session, person_id, message.ref, conversation, activity_id
            )
        return Delivery({"conversation_id": conversation, "activity_id": activity_id})

    async def _send(
        self, reference: ConversationReference, activity: Activity, existing: str | None
    ) -> str:
        sent: dict[str, str] = {}

        async def turn(context: TurnContext) -> None:
            no_retries(context)
            context.activity.id = None  # a new message at the end, not a reply to one
            if existing:
                activity.id = existing
                activity.conversation = reference.conversation
                try:
                    await context.update_activity(activity)
                except HttpOperationError as error:
                    if status_of(error) == 404:
                        raise _CardGone() from None
                    raise
                sent["id"] = existing
                return
            response = await context.send_activity(activity)
            sent["id"] = (response.id if response else None) or ""

        await self.adapter.continue_conversation(reference, turn, bot_app_id=self.app_id)
        return sent["id"]

    def _classify(
        self,
        error: HttpOperationError,
        key: tuple[int, str],
        tenant: str,
        conversation: str,
        updating: bool,
    ) -> Exception:
        status = status_of(error)
        reason = f"teams: {status or 'no status'}"
        if status == 429:
            told = retry_after(error)
            wait = after(told) if told else jittered(self._attempt(key))
            self.pacer.hold(tenant, conversation, wait)
            return TemporaryDeliveryError(reason, retry_after=wait, rate_limited=True)
        if status in GONE:
            return PermanentDeliveryError(FORBIDDEN)
        if status == 404 and not updating:
            return PermanentDeliveryError(f"{reason}: the conversation is gone")
        if status not in RETRY and status < 500:
            log.error("teams refused a card (%s): %s", status, str(error)[:300])
        return self._later(key, reason)

    def _attempt(self, key: tuple[int, str]) -> int:
        attempt = self.attempts[key] = self.attempts.get(key, 0) + 1
        if len(self.attempts) > 10_000:  # only the jitter's width depends on it
            self.attempts.pop(next(iter(self.attempts)))
        return attempt

    def _later(self, key: tuple[int, str], reason: str) -> TemporaryDeliveryError:
        """This message again after a jittered exponential wait; the lane goes on (not
        a rate limit: the attempt counts towards the outbox's maximum)."""
        wait = jittered(self._attempt(key), self.retry_base, RETRY_CAP)
        return TemporaryDeliveryError(reason, retry_after=wait, rate_limited=False)


class _CardGone(Exception):
    """The card to update is gone from Teams: post it anew."""
