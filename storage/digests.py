"""Queries for coaching plans, coaching sessions and stored digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import schedule
from storage.digest_models import CoachingPlan, CoachingSession, Digest
from storage.models import Membership, Person, Team, Workspace
from storage.pulse_models import PulseParticipant, PulseProgram

KIND = "digest"


# --------------------------------------------------------------------------- plans


async def plan_for(session: AsyncSession, team_id: int) -> CoachingPlan | None:
    query = select(CoachingPlan).where(CoachingPlan.team_id == team_id)
    return (await session.exec(query)).first()


async def save_plan(session: AsyncSession, team_id: int, values: dict[str, Any]) -> CoachingPlan:
    plan = await plan_for(session, team_id) or CoachingPlan(team_id=team_id)
    for name, value in values.items():
        setattr(plan, name, value)
    session.add(plan)
    await session.flush()
    return plan


async def all_plans(session: AsyncSession) -> list[CoachingPlan]:
    return list((await session.exec(select(CoachingPlan).order_by(col(CoachingPlan.id)))).all())


async def plan_soon(session: AsyncSession, team_id: int) -> None:
    """Ask the dispatcher to (re)plan this team's digests on its next pass: config apply
    and chat have no clock of their own, the dispatcher does."""
    await schedule.set_due(session, KIND, team_id, schedule.ASAP, None)


# --------------------------------------------------------------------------- sessions


async def sessions_of(
    session: AsyncSession, team_id: int, source: str | None = None, cancelled: bool = False
) -> list[CoachingSession]:
    query = select(CoachingSession).where(CoachingSession.team_id == team_id)
    if not cancelled:
        query = query.where(col(CoachingSession.cancelled).is_(False))
    if source is not None:
        query = query.where(CoachingSession.source == source)
    return list((await session.exec(query.order_by(col(CoachingSession.starts_at)))).all())


async def session_at(
    session: AsyncSession, team_id: int, starts_at: datetime
) -> CoachingSession | None:
    query = select(CoachingSession).where(
        CoachingSession.team_id == team_id, CoachingSession.starts_at == starts_at
    )
    return (await session.exec(query)).first()


async def add_session(
    session: AsyncSession, team_id: int, starts_at: datetime, source: str
) -> tuple[CoachingSession, bool]:
    """The session at that instant (revived if it was cancelled); True when new or revived."""
    found = await session_at(session, team_id, starts_at)
    if found is not None and not found.cancelled:
        return found, False
    found = found or CoachingSession(team_id=team_id, starts_at=starts_at, source=source)
    found.cancelled = False
    session.add(found)
    await session.flush()
    return found, True


async def cancel_session(session: AsyncSession, row: CoachingSession) -> None:
    row.cancelled = True
    session.add(row)


async def teams_with_sessions(session: AsyncSession) -> set[int]:
    plans = select(CoachingPlan.team_id)
    rows = select(CoachingSession.team_id).where(col(CoachingSession.cancelled).is_(False))
    found = set((await session.exec(plans)).all())
    return found | set((await session.exec(rows.distinct())).all())


# --------------------------------------------------------------------------- digests


async def digest(session: AsyncSession, digest_id: int) -> Digest | None:
    return await session.get(Digest, digest_id)


async def digest_for(session: AsyncSession, coach_id: int, occasion: str) -> Digest | None:
    query = select(Digest).where(Digest.coach_id == coach_id, Digest.occasion == occasion)
    return (await session.exec(query)).first()


async def digests_of(
    session: AsyncSession, coach_id: int, team_id: int | None = None, limit: int = 10
) -> list[Digest]:
    """A coach's digests, newest first."""
    query = select(Digest).where(Digest.coach_id == coach_id)
    if team_id is not None:
        query = query.where(Digest.team_id == team_id)
    query = query.order_by(col(Digest.created_at).desc(), col(Digest.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def occasions_sent(session: AsyncSession, team_id: int, occasions: list[str]) -> set[str]:
    if not occasions:
        return set()
    query = select(Digest.occasion).where(
        Digest.team_id == team_id, col(Digest.occasion).in_(occasions)
    )
    return set((await session.exec(query)).all())


# --------------------------------------------------------------------------- pulse participation


async def unanswered(session: AsyncSession, team_id: int, at_least: int) -> tuple[int, int]:
    """How many people have at least `at_least` unanswered pulses in a row (in any active
    program of the team), and how many of them are paused: counts only, never who."""
    paused = func.max(case((col(PulseParticipant.paused_at).is_not(None), 1), else_=0))
    per_person = (
        select(PulseParticipant.person_id, paused.label("paused"))
        .join(PulseProgram, col(PulseProgram.id) == PulseParticipant.program_id)
        .where(
            PulseProgram.team_id == team_id,
            col(PulseProgram.active).is_(True),
            col(PulseParticipant.unanswered_streak) >= at_least,
        )
        .group_by(col(PulseParticipant.person_id))
        .subquery()
    )
    query = select(func.count(), func.sum(per_person.c.paused)).select_from(per_person)
    count, n_paused = (await session.exec(query)).one()
    return int(count or 0), int(n_paused or 0)


async def team_and_workspace(session: AsyncSession, team_key: str) -> tuple[Team, Workspace] | None:
    query = (
        select(Team, Workspace)
        .join(Workspace, col(Workspace.id) == Team.workspace_id)
        .where(Team.key == team_key)
    )
    found = (await session.exec(query)).first()
    return (found[0], found[1]) if found else None


async def people_of(session: AsyncSession, team_id: int) -> list[tuple[Person, str]]:
    """Every member of a team with their role (a person may appear once per role)."""
    query = (
        select(Person, Membership.role)
        .join(Membership, col(Membership.person_id) == Person.id)
        .where(Membership.team_id == team_id)
        .order_by(col(Person.id))
    )
    return [(person, role) for person, role in (await session.exec(query)).all()]
