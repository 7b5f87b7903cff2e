"""Answers in bulk: what one group commit of pulse clicks reads and writes.

Clicks arrive faster than one transaction each can keep up with, so the answer desk
(handlers/pulse_answers.py) writes them a batch at a time; every statement here
takes the whole batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Person, Team, Workspace
from storage.pulse_models import (
    PulseAnswer,
    PulseComment,
    PulseInvite,
    PulseProgram,
    PulseRound,
    PulseRoundKey,
)


@dataclass(frozen=True)
class AnswerRow:
    round_id: int
    respondent: str
    item_key: str
    score: int


@dataclass(frozen=True)
class RoundContext:
    """Everything needed to check and show answers of one open round."""

    round: PulseRound
    program: PulseProgram
    team: Team
    workspace: Workspace | None
    key: str | None  # the anonymity key (None when confidential or already closed)
    invitees: list[tuple[PulseInvite, Person]]


async def round_context(session: AsyncSession, round_id: int) -> RoundContext | None:
    """One round with its program, team, key and invitees: four queries."""
    found = (
        await session.exec(
            select(PulseRound, PulseProgram, Team, Workspace)
            .join(PulseProgram, col(PulseProgram.id) == PulseRound.program_id)
            .join(Team, col(Team.id) == PulseRound.team_id)
            .outerjoin(Workspace, col(Workspace.id) == Team.workspace_id)
            .where(PulseRound.id == round_id)
        )
    ).first()
    if found is None:
        return None
    round_, program, team, workspace = found
    key = await session.get(PulseRoundKey, round_id)
    invitees = (
        await session.exec(
            select(PulseInvite, Person)
            .join(Person, col(Person.id) == PulseInvite.person_id)
            .where(PulseInvite.round_id == round_id)
        )
    ).all()
    return RoundContext(round_, program, team, workspace, key.key if key else None, list(invitees))


async def open_among(session: AsyncSession, round_ids: Iterable[int]) -> set[int]:
    """Which of these rounds are still open, read inside the writing transaction."""
    query = select(PulseRound.id).where(
        col(PulseRound.id).in_(set(round_ids)), PulseRound.status == "open"
    )
    return {int(round_id) for round_id in (await session.exec(query)).all() if round_id}


async def save_answers(session: AsyncSession, rows: Sequence[AnswerRow]) -> None:
    """Insert or change many answers in one statement; the last click on an item wins."""
    latest = {(r.round_id, r.respondent, r.item_key): r.score for r in rows}
    if not latest:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(SQLModel.metadata.tables["pulse_answer"])
    statement = statement.on_conflict_do_update(
        index_elements=["round_id", "respondent", "item_key"],
        set_={"score": statement.excluded.score},
    )
    # Many parameter sets for one statement: compiled once and cached, however many rows.
    await session.exec(
        statement,
        params=[
            {"round_id": r, "respondent": who, "item_key": item, "score": score}
            for (r, who, item), score in latest.items()
        ],
    )


async def mark_answered(session: AsyncSession, pairs: Iterable[tuple[int, int]]) -> None:
    """Invites (round id, person id) that now have an answer."""
    wanted = sorted(set(pairs))
    if not wanted:
        return
    invites = SQLModel.metadata.tables["pulse_invite"]
    statement = (
        update(invites)
        .where(
            invites.c.round_id == bindparam("r"),
            invites.c.person_id == bindparam("p"),
            invites.c.answered.is_(False),
        )
        .values(answered=True)
    )
    await session.exec(statement, params=[{"r": r, "p": p} for r, p in wanted])


async def answers_and_comments(
    session: AsyncSession, keys: Iterable[tuple[int, str]]
) -> tuple[dict[tuple[int, str], dict[str, int]], dict[tuple[int, str], str]]:
    """Each (round id, respondent)'s answers so far and comment, for re-rendering."""
    wanted = set(keys)
    answers: dict[tuple[int, str], dict[str, int]] = {key: {} for key in wanted}
    comments: dict[tuple[int, str], str] = {}
    if not wanted:
        return answers, comments
    pair = tuple_(col(PulseAnswer.round_id), col(PulseAnswer.respondent))
    rows = await session.exec(
        select(
            PulseAnswer.round_id, PulseAnswer.respondent, PulseAnswer.item_key, PulseAnswer.score
        ).where(pair.in_(wanted))
    )
    for round_id, respondent, item_key, score in rows.all():
        answers[(round_id, respondent)][item_key] = score
    noted = await session.exec(
        select(PulseComment.round_id, PulseComment.respondent, PulseComment.text).where(
            tuple_(col(PulseComment.round_id), col(PulseComment.respondent)).in_(wanted)
        )
    )
    for round_id, respondent, text in noted.all():
        comments[(round_id, respondent)] = text
    return answers, comments
