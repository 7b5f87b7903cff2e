"""Queries behind the Teams channel: tenants as workspaces, people matched by Azure AD
object id or email, their conversation references (a `ChatAddress` with channel
"teams": `{"aad_object_id": ..., "reference": {...}}`), and where their cards live."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.channels.teams_models import TeamsMessage
from storage.core.models import Channel, ChatAddress, Person, Workspace
from storage.core.types import utcnow

AAD = "aad_object_id"
REFERENCE = "reference"

# ------------------------------------------------------------------ tenants


async def workspace_for_tenant(session: AsyncSession, tenant_id: str) -> Workspace | None:
    query = select(Workspace).where(
        Workspace.channel == Channel.TEAMS, Workspace.external_id == tenant_id
    )
    return (await session.exec(query)).first()


async def tenants(session: AsyncSession) -> list[str]:
    query = select(Workspace.external_id).where(Workspace.channel == Channel.TEAMS)
    return list((await session.exec(query)).all())


# ------------------------------------------------------------------ people


async def person_for_aad(
    session: AsyncSession, tenant_id: str, aad_object_id: str
) -> tuple[int, int] | None:
    """(person id, workspace id) of the Azure AD user in that tenant's workspace."""
    query = (
        select(Person.id, Person.workspace_id)
        .join(ChatAddress, col(ChatAddress.person_id) == Person.id)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(
            ChatAddress.channel == Channel.TEAMS,
            col(ChatAddress.address)[AAD].as_string() == aad_object_id,
            Workspace.channel == Channel.TEAMS,
            Workspace.external_id == tenant_id,
        )
    )
    found = (await session.exec(query)).first()
    return (int(found[0] or 0), int(found[1])) if found else None


async def people_by_aad(session: AsyncSession, tenant_id: str) -> dict[str, tuple[int, int]]:
    """Every matched user of a tenant: Azure AD object id -> (person id, workspace id)."""
    query = (
        select(col(ChatAddress.address)[AAD].as_string(), Person.id, Person.workspace_id)
        .join(Person, col(ChatAddress.person_id) == Person.id)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(
            ChatAddress.channel == Channel.TEAMS,
            Workspace.channel == Channel.TEAMS,
            Workspace.external_id == tenant_id,
        )
    )
    return {
        str(aad): (int(person or 0), int(workspace))
        for aad, person, workspace in (await session.exec(query)).all()
        if aad
    }


async def unmatched_by_email(
    session: AsyncSession, workspace_id: int, emails: list[str]
) -> Person | None:
    """The person of the workspace with one of these emails (or UPNs) who has no Teams
    user bound yet; a person bound to another Azure AD user is never taken over."""
    wanted = [e.lower() for e in emails if e]
    if not wanted:
        return None
    query = select(Person).where(
        Person.workspace_id == workspace_id, func.lower(Person.email).in_(wanted)
    )
    for person in (await session.exec(query)).all():
        address = await address_of(session, person.id or 0)
        if address is None or not address.address.get(AAD):
            return person
    return None


async def address_of(session: AsyncSession, person_id: int) -> ChatAddress | None:
    query = select(ChatAddress).where(
        ChatAddress.person_id == person_id, ChatAddress.channel == Channel.TEAMS
    )
    return (await session.exec(query)).first()


async def save_reference(
    session: AsyncSession, person_id: int, aad_object_id: str, reference: dict[str, Any]
) -> bool:
    """Store the person's conversation reference (and Azure AD id), active again; True
    when anything changed (a new address, a moved conversation, a reactivation)."""
    row = await address_of(session, person_id)
    wanted = {AAD: aad_object_id, REFERENCE: reference}
    if row is not None and row.active and all(row.address.get(k) == v for k, v in wanted.items()):
        return False
    row = row or ChatAddress(person_id=person_id, channel=Channel.TEAMS)
    row.address = dict(row.address) | wanted
    row.active, row.inactive_reason, row.updated_at = True, None, utcnow()
    session.add(row)
    return True


async def deactivate(session: AsyncSession, person_id: int, reason: str) -> bool:
    statement = (
        update(ChatAddress)
        .where(
            col(ChatAddress.person_id) == person_id,
            col(ChatAddress.channel) == Channel.TEAMS,
            col(ChatAddress.active).is_(True),
        )
        .values(active=False, inactive_reason=reason[:200], updated_at=utcnow())
    )
    return bool((await session.exec(statement)).rowcount)


# ------------------------------------------------------------------ card locations


async def card_of(session: AsyncSession, person_id: int, ref: str) -> TeamsMessage | None:
    query = select(TeamsMessage).where(TeamsMessage.person_id == person_id, TeamsMessage.ref == ref)
    return (await session.exec(query)).first()


async def record_card(
    session: AsyncSession, person_id: int, ref: str, conversation_id: str, activity_id: str
) -> None:
    row = await card_of(session, person_id, ref) or TeamsMessage(
        person_id=person_id, ref=ref, conversation_id=conversation_id, activity_id=activity_id
    )
    row.conversation_id, row.activity_id, row.updated_at = conversation_id, activity_id, utcnow()
    session.add(row)


async def ref_of_activity(session: AsyncSession, person_id: int, activity_id: str) -> str | None:
    query = select(TeamsMessage.ref).where(
        TeamsMessage.person_id == person_id, TeamsMessage.activity_id == activity_id
    )
    return (await session.exec(query)).first()


async def forget_card(session: AsyncSession, person_id: int, ref: str) -> None:
    """The card is gone from Teams: the next message with this ref is posted anew."""
    await session.exec(
        delete(TeamsMessage).where(
            col(TeamsMessage.person_id) == person_id, col(TeamsMessage.ref) == ref
        )
    )
