"""Reads of closed pulse rounds, for results and digests, and writing a finished round.

A closed round is history: its key is gone, its answers and comments link to no one,
and all that is left to do with it is read it in aggregate (results, trends, digests)
or, for demo history and imports, record one in one go. Opening, answering and
closing rounds stay in storage/pulse.py; this module only looks back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.pulse import rounds as pulse
from storage.pulse.models import (
    PulseAnswer,
    PulseComment,
    PulseInvite,
    PulseRound,
    PulseRoundSummary,
)


async def closed_rounds(
    session: AsyncSession, team_id: int, limit: int = 12, program_id: int | None = None
) -> list[PulseRound]:
    """The latest closed rounds of a team (tests excluded), oldest first."""
    query = select(PulseRound).where(
        PulseRound.team_id == team_id, PulseRound.status == "closed", PulseRound.kind != "test"
    )
    if program_id is not None:
        query = query.where(PulseRound.program_id == program_id)
    query = query.order_by(col(PulseRound.opened_at).desc(), col(PulseRound.id).desc()).limit(limit)
    return list(reversed((await session.exec(query)).all()))


async def responses(
    session: AsyncSession, round_ids: Sequence[int]
) -> dict[int, list[tuple[str, str, int]]]:
    """Answers of many rounds in one query: round id -> (respondent, item, score)."""
    result: dict[int, list[tuple[str, str, int]]] = {round_id: [] for round_id in round_ids}
    if not round_ids:
        return result
    query = select(
        PulseAnswer.round_id, PulseAnswer.respondent, PulseAnswer.item_key, PulseAnswer.score
    ).where(col(PulseAnswer.round_id).in_(list(round_ids)))
    for round_id, respondent, item_key, score in (await session.exec(query)).all():
        result[round_id].append((respondent, item_key, score))
    return result


async def comments(session: AsyncSession, round_ids: Sequence[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {round_id: [] for round_id in round_ids}
    if not round_ids:
        return result
    query = (
        select(PulseComment.round_id, PulseComment.text)
        .where(col(PulseComment.round_id).in_(list(round_ids)))
        .order_by(col(PulseComment.text))  # never in arrival order: order could identify
    )
    for round_id, text in (await session.exec(query)).all():
        result[round_id].append(text)
    return result


async def kept_summaries(
    session: AsyncSession, round_ids: Sequence[int]
) -> dict[int, dict[str, object]]:
    """round id -> the figures kept when its answers were purged."""
    if not round_ids:
        return {}
    query = select(PulseRoundSummary).where(col(PulseRoundSummary.round_id).in_(list(round_ids)))
    return {row.round_id: row.summary for row in (await session.exec(query)).all()}


async def answered_by(session: AsyncSession, round_ids: Sequence[int]) -> dict[int, frozenset[int]]:
    """round id -> the people whose invite is marked answered (who, never what)."""
    found: dict[int, set[int]] = {round_id: set() for round_id in round_ids}
    if round_ids:
        query = select(PulseInvite.round_id, PulseInvite.person_id).where(
            col(PulseInvite.round_id).in_(list(round_ids)), col(PulseInvite.answered).is_(True)
        )
        for round_id, person_id in (await session.exec(query)).all():
            found[round_id].add(person_id)
    return {round_id: frozenset(people) for round_id, people in found.items()}


async def closed_rounds_invited(
    session: AsyncSession, team_id: int, limit: int, program_id: int
) -> list[tuple[PulseRound, int]]:
    """`closed_rounds` of one program with each round's number of invites, in one query."""
    invited = (
        select(func.count())
        .where(col(PulseInvite.round_id) == PulseRound.id)
        .correlate(PulseRound)
        .scalar_subquery()
    )
    query = (
        select(PulseRound, invited)
        .where(
            PulseRound.team_id == team_id,
            PulseRound.program_id == program_id,
            PulseRound.status == "closed",
            PulseRound.kind != "test",
        )
        .order_by(col(PulseRound.opened_at).desc(), col(PulseRound.id).desc())
        .limit(limit)
    )
    return [(round_, int(n)) for round_, n in reversed((await session.exec(query)).all())]


async def store_history(
    session: AsyncSession,
    round_: PulseRound,
    answered: set[int],
    answers: Sequence[tuple[str, str, int]],
    comments: Sequence[tuple[str, str]],
    closed_at: datetime,
) -> None:
    """Record a finished round in one go (demo history and imports)."""
    for invite in await pulse.invites(session, round_.id or 0):
        invite.answered = invite.person_id in answered
        session.add(invite)
    session.add_all(
        PulseAnswer(round_id=round_.id or 0, respondent=r, item_key=k, score=s)
        for r, k, s in answers
    )
    session.add_all(
        PulseComment(round_id=round_.id or 0, respondent=r, text=t) for r, t in comments
    )
    await pulse.close_round(session, round_, closed_at)
