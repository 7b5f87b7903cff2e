"""Queries for coaching plans, coaching sessions and stored digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import schedule
from storage.core.models import Membership, Person, Team, Workspace
from storage.digests.models import CoachingPlan, CoachingSession, Digest
from storage.pulse.models import PulseInvite, PulseParticipant, PulseProgram, PulseRound

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


# --------------------------------------------------------------------------- digest subject


@dataclass(frozen=True)
class DigestSubject:
    team: Team
    workspace: Workspace
    program: PulseProgram | None  # the team's first active pulse program
    plan: CoachingPlan | None
    # People with at least `at_least` unanswered pulses in a row in an active program
    # of the team, and how many of them are paused: counts only, never who.
    unanswered: tuple[int, int]


async def digest_subject(
    session: AsyncSession, team_key: str, at_least: int
) -> DigestSubject | None:
    """What a digest of the team starts from, in one query: the team, its workspace,
    first active pulse program and coaching plan, and the unanswered counts."""
    paused = case((col(PulseParticipant.paused_at).is_not(None), PulseParticipant.person_id))
    unanswered = (
        select(PulseProgram.id)
        .join(PulseParticipant, col(PulseParticipant.program_id) == PulseProgram.id)
        .where(
            col(PulseProgram.team_id) == Team.id,
            col(PulseProgram.active).is_(True),
            col(PulseParticipant.unanswered_streak) >= at_least,
        )
        .correlate(Team)  # only Team: the outer query's pulse_program is another
    )
    people = unanswered.with_only_columns(func.count(distinct(col(PulseParticipant.person_id))))
    of_them_paused = unanswered.with_only_columns(func.count(distinct(paused)))
    query = (
        select(  # type: ignore[call-overload]  # sqlmodel types up to four columns
            Team,
            Workspace,
            PulseProgram,
            CoachingPlan,
            people.scalar_subquery(),
            of_them_paused.scalar_subquery(),
        )
        .join(Workspace, col(Workspace.id) == Team.workspace_id)
        .outerjoin(
            PulseProgram,
            and_(col(PulseProgram.team_id) == Team.id, col(PulseProgram.active).is_(True)),
        )
        .outerjoin(CoachingPlan, col(CoachingPlan.team_id) == Team.id)
        .where(Team.key == team_key)
        .order_by(col(PulseProgram.id))
        .limit(1)
    )
    found = (await session.exec(query)).first()
    if found is None:
        return None
    team, workspace, program, plan, n, n_paused = found
    return DigestSubject(team, workspace, program, plan, (int(n or 0), int(n_paused or 0)))


async def people_of(session: AsyncSession, team_id: int) -> list[tuple[Person, str]]:
    """Every member of a team with their role (a person may appear once per role)."""
    query = (
        select(Person, Membership.role)
        .join(Membership, col(Membership.person_id) == Person.id)
        .where(Membership.team_id == team_id)
        .order_by(col(Person.id))
    )
    return [(person, role) for person, role in (await session.exec(query)).all()]


async def people_and_names(
    session: AsyncSession, team_id: int, workspace_id: int
) -> tuple[list[tuple[Person, str]], list[tuple[str, str, str | None]]]:
    """In one query: the team's members with their roles (as `people_of`), and the
    name, handle and e-mail of everyone in the workspace (for redaction, never shown)."""
    query = (
        select(Person, Membership.role)
        .outerjoin(
            Membership,
            and_(col(Membership.person_id) == Person.id, col(Membership.team_id) == team_id),
        )
        .where(Person.workspace_id == workspace_id)
        .order_by(col(Person.id))
    )
    members: list[tuple[Person, str]] = []
    names: dict[int, tuple[str, str, str | None]] = {}
    for person, role in (await session.exec(query)).all():
        names[person.id or 0] = (person.name, person.handle, person.email)
        if role is not None:
            members.append((person, role))
    return members, list(names.values())


def _closed_at() -> Any:
    return func.coalesce(col(PulseRound.closed_at), col(PulseRound.opened_at))


async def digest_rounds(
    session: AsyncSession, team_id: int, program_id: int, since: datetime, earlier: int
) -> list[tuple[PulseRound, int]]:
    """Every closed round of the program that closed at or after `since`, however
    many, and the `earlier` last ones before it, oldest first, each with its number of
    invites: one query."""
    invited = (
        select(func.count())
        .where(col(PulseInvite.round_id) == PulseRound.id)
        .correlate(PulseRound)
        .scalar_subquery()
    )
    base = (
        PulseRound.team_id == team_id,
        PulseRound.program_id == program_id,
        PulseRound.status == "closed",
        PulseRound.kind != "test",
    )
    before = (
        select(PulseRound.id)
        .where(*base, _closed_at() < since)
        .order_by(col(PulseRound.opened_at).desc(), col(PulseRound.id).desc())
        .limit(earlier)
    )
    query = (
        select(PulseRound, invited)
        .where(*base, or_(_closed_at() >= since, col(PulseRound.id).in_(before)))
        .order_by(col(PulseRound.opened_at), col(PulseRound.id))
    )
    return [(round_, int(n)) for round_, n in (await session.exec(query)).all()]


async def latest_closed_round(session: AsyncSession, team_id: int) -> int | None:
    """The id of the team's most recently closed (non-test) pulse round, if any."""
    query = (
        select(PulseRound.id)
        .where(
            PulseRound.team_id == team_id,
            PulseRound.status == "closed",
            PulseRound.kind != "test",
        )
        .order_by(_closed_at().desc(), col(PulseRound.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()
