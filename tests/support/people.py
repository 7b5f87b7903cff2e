"""The smallest directory a storage test needs: one local workspace and one person."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core.models import Person, Workspace


async def local_person(session: AsyncSession, handle: str = "ana") -> Person:
    workspace = Workspace(key="w", name="W", channel="local", external_id="w")
    session.add(workspace)
    await session.flush()
    person = Person(workspace_id=workspace.id or 0, handle=handle, name=handle.title())
    session.add(person)
    await session.flush()
    return person
