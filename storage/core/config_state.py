"""Every database read and write behind `pulsecoach apply` and `pulsecoach export-config`.

The config handlers (`handlers/config/`) decide *what* changes; this module is the only
place that touches the database for them. Everything runs inside one `unit_of_work`, so a
whole file is applied in one transaction: any error rolls everything back, and a dry run
does all the work and then rolls back too (it reports exactly what a real run would do).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.channels import slack as slack_store
from storage.core import audit as audit_log
from storage.core.db import Database
from storage.core.models import Channel, ChatAddress, Membership, Person, Team, Workspace
from storage.core.retention import Window as Window  # answer windows: the retention check
from storage.core.retention import windows as windows
from storage.core.types import utcnow

Row = TypeVar("Row", bound=SQLModel)


class StorageConflict(ValueError):
    """The database refused a write (a unique or foreign-key constraint)."""


class _RollBack(Exception):
    """Ends a dry run: the unit of work rolls back instead of committing."""


@asynccontextmanager
async def unit_of_work(db: Database, *, dry_run: bool = False) -> AsyncIterator[AsyncSession]:
    """One transaction for a whole config file; with `dry_run`, always rolled back."""
    try:
        async with db.session() as session:
            yield session
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    except IntegrityError as exc:
        raise StorageConflict(str(exc.orig).splitlines()[0]) from exc


# --------------------------------------------------------------------------- reads


async def workspace_by_key(session: AsyncSession, key: str) -> Workspace | None:
    return (await session.exec(select(Workspace).where(Workspace.key == key))).first()


async def workspace_by_external_id(
    session: AsyncSession, channel: str, external_id: str
) -> Workspace | None:
    query = select(Workspace).where(
        Workspace.channel == channel, Workspace.external_id == external_id
    )
    return (await session.exec(query)).first()


def named_by_install(workspace: Workspace) -> bool:
    """Whether a workspace still has the key a Slack install gave it
    (`slack_store.automatic_key`): no config file has named it, so one may adopt it."""
    return workspace.channel == Channel.SLACK and workspace.key == slack_store.automatic_key(
        workspace.external_id
    )


async def local_workspaces(session: AsyncSession) -> list[Workspace]:
    query = select(Workspace).where(Workspace.channel == Channel.LOCAL).order_by(col(Workspace.id))
    return list((await session.exec(query)).all())


async def person_by_handle(session: AsyncSession, workspace_id: int, handle: str) -> Person | None:
    query = select(Person).where(Person.workspace_id == workspace_id, Person.handle == handle)
    return (await session.exec(query)).first()


async def team_by_key(session: AsyncSession, workspace_id: int, key: str) -> Team | None:
    query = select(Team).where(Team.workspace_id == workspace_id, Team.key == key)
    return (await session.exec(query)).first()


async def addresses_of(session: AsyncSession, person_id: int) -> dict[str, ChatAddress]:
    """A person's chat addresses by channel."""
    query = select(ChatAddress).where(ChatAddress.person_id == person_id)
    return {address.channel: address for address in (await session.exec(query)).all()}


async def memberships_of(session: AsyncSession, team_id: int) -> list[tuple[Membership, str]]:
    """A team's memberships with each member's handle, in the order they were added."""
    query = (
        select(Membership, Person.handle)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(Membership.team_id == team_id)
        .order_by(col(Membership.id))
    )
    return [(membership, handle) for membership, handle in (await session.exec(query)).all()]


# --------------------------------------------------------------------------- writes


async def insert(session: AsyncSession, row: Row) -> Row:
    """Add a new row and flush it, so its id is known to the rest of the unit of work."""
    session.add(row)
    await session.flush()
    return row


async def create_workspace(session: AsyncSession, values: Mapping[str, Any]) -> Workspace:
    return await insert(session, Workspace(**values))


async def create_person(session: AsyncSession, values: Mapping[str, Any]) -> Person:
    return await insert(session, Person(**values))


async def create_team(session: AsyncSession, values: Mapping[str, Any]) -> Team:
    return await insert(session, Team(**values))


async def update(session: AsyncSession, row: SQLModel, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)
    await session.flush()


async def set_address(
    session: AsyncSession,
    person_id: int,
    channel: str,
    address: Mapping[str, Any],
    existing: ChatAddress | None = None,
) -> ChatAddress:
    """Create or replace a person's address on one channel; a new address is active again."""
    row = existing or ChatAddress(person_id=person_id, channel=channel)
    row.address = dict(address)
    row.active = True
    row.inactive_reason = None
    row.updated_at = utcnow()
    return await insert(session, row)


async def add_membership(
    session: AsyncSession, team_id: int, person_id: int, role: str
) -> Membership:
    return await insert(session, Membership(team_id=team_id, person_id=person_id, role=role))


async def remove_membership(session: AsyncSession, membership: Membership) -> None:
    await session.delete(membership)
    await session.flush()


def audit(session: AsyncSession, actor: str, action: str, target: str, **detail: Any) -> None:
    audit_log.record(session, actor[:200], action[:64], target[:200], **detail)


# --------------------------------------------------------------------------- export


async def all_workspaces(session: AsyncSession) -> list[Workspace]:
    return list((await session.exec(select(Workspace).order_by(col(Workspace.key)))).all())


async def all_people(session: AsyncSession) -> list[tuple[Person, Workspace]]:
    """Every person with their workspace, by workspace key then handle."""
    query = (
        select(Person, Workspace)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .order_by(col(Workspace.key), col(Person.handle))
    )
    return [(person, workspace) for person, workspace in (await session.exec(query)).all()]


async def all_addresses(session: AsyncSession) -> dict[int, dict[str, ChatAddress]]:
    """Every chat address, by person id then channel."""
    found: dict[int, dict[str, ChatAddress]] = {}
    for address in (await session.exec(select(ChatAddress).order_by(col(ChatAddress.id)))).all():
        found.setdefault(address.person_id, {})[address.channel] = address
    return found


async def all_teams(session: AsyncSession) -> list[tuple[Team, Workspace]]:
    """Every team with its workspace, by workspace key then team key."""
    query = (
        select(Team, Workspace)
        .join(Workspace, col(Workspace.id) == Team.workspace_id)
        .order_by(col(Workspace.key), col(Team.key))
    )
    return [(team, workspace) for team, workspace in (await session.exec(query)).all()]


async def all_memberships(session: AsyncSession) -> list[tuple[Membership, Person]]:
    """Every membership with its person, by member handle."""
    query = (
        select(Membership, Person)
        .join(Person, col(Person.id) == Membership.person_id)
        .order_by(col(Person.handle), col(Membership.id))
    )
    return [(membership, person) for membership, person in (await session.exec(query)).all()]
