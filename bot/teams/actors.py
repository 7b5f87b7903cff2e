"""Teams users as pulsecoach people.

The tenant of the activity names the workspace (a `workspaces` entry with channel
teams and the tenant id as external_id). Within it a person is matched by the Azure
AD object id their config gives (`chat: {teams: {aad_object_id: ...}}`), else, the
first time they write or install the app, by email: the Connector's member lookup
gives the user's email and UPN, compared with the people of that workspace who have
no Teams user yet. Someone matched has their conversation reference stored (and
refreshed when it changes); someone unknown gets nothing stored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.core.events import Actor
from storage.channels import teams as teams_store
from storage.core.db import Database

log = logging.getLogger(__name__)

KNOWN_SECONDS = 300.0
UNKNOWN_SECONDS = 120.0  # someone unknown is looked up (and their email fetched) again after


@dataclass(frozen=True)
class Who:
    """Who wrote, as the activity says."""

    tenant: str
    aad_object_id: str
    user_id: str  # the Teams user id ("29:...") in this conversation

    @classmethod
    def of(cls, activity: Activity) -> Who | None:
        sender = activity.from_property
        tenant = tenant_of(activity)
        if sender is None or not sender.id or not tenant:
            return None
        return cls(str(tenant), str(sender.aad_object_id or ""), str(sender.id))


def tenant_of(activity: Activity) -> str:
    """The tenant: Teams sends `conversation.tenantId`, which botbuilder-python's schema
    spells `tenantID` (and so leaves unread), and `channelData.tenant.id`."""
    conversation = activity.conversation
    extra: Any = getattr(conversation, "additional_properties", None) or {}
    channel_data: Any = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    found = (
        (conversation.tenant_id if conversation else None)
        or extra.get("tenantId")
        or (channel_data.get("tenant") or {}).get("id")
    )
    return str(found or "")


def reference_of(activity: Activity) -> dict[str, Any]:
    """The conversation reference to store: without the activity id, which changes with
    every message and would make every click a write; with the tenant, as Teams spells it."""
    reference: ConversationReference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    stored: dict[str, Any] = reference.serialize()
    stored.setdefault("conversation", {})["tenantId"] = tenant_of(activity)
    return stored


class Actors:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[tuple[str, str], tuple[float, Actor | None]] = {}
        self._saved: dict[int, dict[str, Any]] = {}  # person -> the reference last stored
        self._logged: set[tuple[str, str]] = set()

    async def tenant_known(self, tenant: str) -> bool:
        async with self.db.session() as session:
            return await teams_store.workspace_for_tenant(session, tenant) is not None

    async def resolve(self, context: TurnContext, who: Who) -> Actor | None:
        """The person behind the activity (matching them by email if need be), their
        conversation reference stored when it changed; None when unknown."""
        key = (who.tenant, who.aad_object_id or who.user_id)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            actor = hit[1]
        else:
            actor = await self._find(context, who)
            ttl = KNOWN_SECONDS if actor is not None else UNKNOWN_SECONDS
            self._cache[key] = (time.monotonic() + ttl, actor)
            if actor is None and key not in self._logged and len(self._logged) < 10_000:
                self._logged.add(key)
                log.info(
                    "teams: ignoring user %s of tenant %s: not a pulsecoach person", *key[::-1]
                )
        if actor is not None and context.activity.conversation is not None:
            await self.remember(actor.person_id, who, context.activity)
        return actor

    async def remember(self, person_id: int, who: Who, activity: Activity) -> None:
        """Store the conversation reference when it is new or changed (personal chats
        only: a card to a channel would show a person's pulse to everyone in it)."""
        if getattr(activity.conversation, "conversation_type", None) not in (None, "personal"):
            return
        reference = reference_of(activity)
        if self._saved.get(person_id) == reference:
            return
        async with self.db.session() as session:
            changed = await teams_store.save_reference(
                session, person_id, who.aad_object_id, reference
            )
        self._saved[person_id] = reference
        if changed:
            log.info("teams: conversation of person %s stored", person_id)

    async def _find(self, context: TurnContext, who: Who) -> Actor | None:
        async with self.db.session() as session:
            workspace = await teams_store.workspace_for_tenant(session, who.tenant)
            if workspace is None:
                return None
            found = (
                await teams_store.person_for_aad(session, who.tenant, who.aad_object_id)
                if who.aad_object_id
                else None
            )
        if found is not None:
            return Actor(person_id=found[0], workspace_id=found[1], channel="teams")
        emails = await self._emails(context, who)
        async with self.db.session() as session:
            person = await teams_store.unmatched_by_email(session, workspace.id or 0, emails)
            if person is None or not who.aad_object_id:
                return None
            await teams_store.save_reference(
                session, person.id or 0, who.aad_object_id, reference_of(context.activity)
            )
        log.info("teams: matched user %s to person %s by email", who.aad_object_id, person.id)
        return Actor(person_id=person.id or 0, workspace_id=person.workspace_id, channel="teams")

    async def _emails(self, context: TurnContext, who: Who) -> list[str]:
        """The user's email and UPN, from the Connector's member lookup."""
        try:
            member = await TeamsInfo.get_member(context, who.user_id)
        except (HttpOperationError, ClientRequestError, OSError, TypeError) as error:
            log.warning("teams: could not look up user %s: %s", who.user_id, type(error).__name__)
            return []
        return [e for e in (member.email, member.user_principal_name) if isinstance(e, str)]

    def forget(self, person_id: int | None = None) -> None:
        """After an uninstall or a config change: look people up again."""
        self._cache.clear()
        if person_id is None:
            self._saved.clear()
        else:
            self._saved.pop(person_id, None)
