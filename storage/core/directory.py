"""Queries about workspaces, people, teams, memberships and chat addresses."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core.models import Channel, ChatAddress, Membership, Person, Team, Workspace


async def local_person(session: AsyncSession, handle: str) -> Person | None:
    """The person the local web chat knows by this handle."""
    query = (
        select(Person)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(Workspace.channel == Channel.LOCAL, Person.handle == handle)
    )
    return (await session.exec(query)).first()


async def local_people(session: AsyncSession) -> list[tuple[Person, list[str], list[str]]]:
    """Every person of the local workspace with their roles and team keys."""
    people = (
        await session.exec(
            select(Person)
            .join(Workspace, col(Workspace.id) == Person.workspace_id)
            .where(Workspace.channel == Channel.LOCAL)
            .order_by(col(Person.id))
        )
    ).all()
    rows = (
        await session.exec(
            select(Membership.person_id, Membership.role, Team.key).join(
                Team, col(Team.id) == Membership.team_id
            )
        )
    ).all()
    roles: dict[int, list[str]] = {}
    teams: dict[int, list[str]] = {}
    for person_id, role, team_key in rows:
        roles.setdefault(person_id, [])
        if role not in roles[person_id]:
            roles[person_id].append(role)
        teams.setdefault(person_id, [])
        if team_key not in teams[person_id]:
            teams[person_id].append(team_key)
    return [(p, roles.get(p.id or 0, []), teams.get(p.id or 0, [])) for p in people]


async def person(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def team_by_key(session: AsyncSession, key: str) -> Team | None:
    return (await session.exec(select(Team).where(Team.key == key))).first()


async def members(session: AsyncSession, team_id: int, role: str | None = None) -> list[Person]:
    """People of a team (with `role`), each once, in a stable order."""
    ids = select(Membership.person_id).where(Membership.team_id == team_id)
    if role:
        ids = ids.where(Membership.role == role)
    query = select(Person).where(col(Person.id).in_(ids)).order_by(col(Person.id))
    return list((await session.exec(query)).all())


async def roles_of(session: AsyncSession, person_id: int) -> list[tuple[Team, str]]:
    query = (
        select(Team, Membership.role)
        .join(Membership, col(Membership.team_id) == Team.id)
        .where(Membership.person_id == person_id)
        .order_by(col(Team.id))
    )
    return [(team, role) for team, role in (await session.exec(query)).all()]


async def has_role(
    session: AsyncSession, person_id: int, team_id: int, roles: Sequence[str]
) -> bool:
    query = select(Membership.id).where(
        Membership.person_id == person_id,
        Membership.team_id == team_id,
        col(Membership.role).in_(list(roles)),
    )
    return (await session.exec(query)).first() is not None


async def active_address(session: AsyncSession, person_id: int) -> ChatAddress | None:
    """The channel to reach a person proactively: the first active address."""
    query = (
        select(ChatAddress)
        .where(ChatAddress.person_id == person_id, col(ChatAddress.active).is_(True))
        .order_by(col(ChatAddress.id))
    )
    return (await session.exec(query)).first()


async def active_addresses(session: AsyncSession, person_ids: list[int]) -> dict[int, ChatAddress]:
    """`active_address` of many people in one query (a claim's worth of messages)."""
    if not person_ids:
        return {}
    query = (
        select(ChatAddress)
        .where(col(ChatAddress.person_id).in_(person_ids), col(ChatAddress.active).is_(True))
        .order_by(col(ChatAddress.id).desc())
    )
    # Newest first, so each person's first (lowest id) address is the one that stays.
    return {address.person_id: address for address in (await session.exec(query)).all()}


async def deactivate_address(
    session: AsyncSession, person_id: int, channel: str, reason: str
) -> None:
    query = select(ChatAddress).where(
        ChatAddress.person_id == person_id, ChatAddress.channel == channel
    )
    for address in (await session.exec(query)).all():
        address.active = False
        address.inactive_reason = reason[:200]
        session.add(address)


async def has_workspaces(session: AsyncSession) -> bool:
    """Whether any organisation has been set up in this database."""
    return (await session.exec(select(Workspace.id).limit(1))).first() is not None


async def workspace(session: AsyncSession, workspace_id: int) -> Workspace | None:
    return await session.get(Workspace, workspace_id)


async def team(session: AsyncSession, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def person_by_handle(session: AsyncSession, handle: str) -> Person | None:
    return (await session.exec(select(Person).where(Person.handle == handle))).first()
