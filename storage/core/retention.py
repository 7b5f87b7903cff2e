"""The retention period's purge (issue #13): per workspace, what is older than its
cutoff and still holds raw data, counted and removed a batch at a time.

Raw data is what a person wrote or answered: closed pulse rounds' answers and comments
(the round's figures are kept first, in `pulse_round_summary`, by the caller), closed
contract checks' ratings (their figures kept first, in `contract_check_summary`) and
comments, commitment reflections (the outcome stays: "kept" is an
aggregate), the local chat history, and the texts of digests sent (the row stays,
emptied, so the coach's list of digests and their dates still read). Every statement
here removes at most `limit` rows, so a purge is many short transactions: interrupted,
it resumes where it stopped; run again, it finds nothing left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, exists, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.contracts.models import ContractCheck, ContractComment, ContractRating, TeamContract
from storage.contracts.retention import due_check_ids
from storage.core.models import LocalMessage, Person, Team, Workspace
from storage.digests.models import Digest
from storage.pulse.models import (
    PulseAnswer,
    PulseComment,
    PulseInvite,
    PulseProgram,
    PulseRound,
    PulseRoundSummary,
)

# The kinds of raw data purged, in the audit row's and the CLI's words.
PULSE_ANSWERS = "pulse answers"
PULSE_COMMENTS = "pulse comments"
CONTRACT_RATINGS = "contract ratings"
CONTRACT_COMMENTS = "contract comments"
REFLECTIONS = "commitment reflections"
CHAT = "chat history"
DIGESTS = "digest texts"
KINDS = (
    PULSE_ANSWERS,
    PULSE_COMMENTS,
    CONTRACT_RATINGS,
    CONTRACT_COMMENTS,
    REFLECTIONS,
    CHAT,
    DIGESTS,
)
# What the database is asked to reclaim after a purge (their dead rows held the data).
TABLES = (
    "pulse_answer",
    "pulse_comment",
    "contract_rating",
    "contract_comment",
    "commitment_checkin",
    "local_message",
    "digest",
)
_EMPTY = "{}"  # a purged digest's message and content


async def workspaces(session: AsyncSession) -> list[Workspace]:
    return list((await session.exec(select(Workspace).order_by(col(Workspace.id)))).all())


# --------------------------------------------------------------------------- pulse rounds


def _has_raw(round_id: Any) -> Any:
    return exists().where(col(PulseAnswer.round_id) == round_id) | exists().where(
        col(PulseComment.round_id) == round_id
    )


def _rounds_due(workspace_id: int, cutoff: datetime) -> Any:
    return (
        select(PulseRound.id)
        .join(Team, col(Team.id) == PulseRound.team_id)
        .where(
            Team.workspace_id == workspace_id,
            PulseRound.status == "closed",
            col(PulseRound.closed_at) < cutoff,
            _has_raw(PulseRound.id),
        )
    )


@dataclass(frozen=True)
class DueRound:
    round: PulseRound
    program: PulseProgram
    invited: int
    answers: list[tuple[str, str, int]]  # (respondent, item, score)
    comments: int


async def rounds_due(
    session: AsyncSession, workspace_id: int, cutoff: datetime, limit: int
) -> list[DueRound]:
    """Closed rounds past the cutoff that still hold answers or comments, oldest id
    first, with their answers (for their figures) and number of comments; at least one
    round, then as many more as fit in `limit` rows."""
    ids = (
        await session.exec(
            _rounds_due(workspace_id, cutoff).order_by(col(PulseRound.id)).limit(limit)
        )
    ).all()
    found: list[DueRound] = []
    rows = 0
    for round_id in ids:
        round_, program = (
            await session.exec(
                select(PulseRound, PulseProgram)
                .join(PulseProgram, col(PulseProgram.id) == PulseRound.program_id)
                .where(PulseRound.id == round_id)
            )
        ).one()
        answers = (
            await session.exec(
                select(PulseAnswer.respondent, PulseAnswer.item_key, PulseAnswer.score).where(
                    PulseAnswer.round_id == round_id
                )
            )
        ).all()
        comments = (
            await session.exec(
                select(func.count())
                .select_from(PulseComment)
                .where(PulseComment.round_id == round_id)
            )
        ).one()
        invited = (
            await session.exec(
                select(func.count())
                .select_from(PulseInvite)
                .where(PulseInvite.round_id == round_id)
            )
        ).one()
        size = len(answers) + int(comments)
        if found and rows + size > limit:
            break
        kept = [(who, item, score) for who, item, score in answers]
        found.append(DueRound(round_, program, int(invited), kept, int(comments)))
        rows += size
    return found


async def purge_round(
    session: AsyncSession, round_id: int, summary: dict[str, object] | None
) -> tuple[int, int]:
    """Keep the round's figures (unless kept already), then delete its answers and
    comments, in the caller's transaction: (answers, comments) deleted."""
    if summary is not None and await session.get(PulseRoundSummary, round_id) is None:
        session.add(PulseRoundSummary(round_id=round_id, summary=summary))
        await session.flush()
    answers = await session.exec(delete(PulseAnswer).where(col(PulseAnswer.round_id) == round_id))
    comments = await session.exec(
        delete(PulseComment).where(col(PulseComment.round_id) == round_id)
    )
    return int(answers.rowcount or 0), int(comments.rowcount or 0)


# --------------------------------------------------------------------------- other kinds


def _due_ids(kind: str, workspace_id: int, cutoff: datetime) -> Any:
    """The ids of `kind`'s rows in the workspace past the cutoff that still hold text."""
    if kind == CONTRACT_COMMENTS:
        return (
            select(ContractComment.id)
            .join(ContractCheck, col(ContractCheck.id) == ContractComment.check_id)
            .join(Team, col(Team.id) == ContractCheck.team_id)
            .where(
                Team.workspace_id == workspace_id,
                ContractCheck.status == "closed",
                col(ContractCheck.closed_at) < cutoff,
            )
        )
    if kind == REFLECTIONS:
        return (
            select(CommitmentCheckIn.id)
            .join(Commitment, col(Commitment.id) == CommitmentCheckIn.commitment_id)
            .join(Team, col(Team.id) == Commitment.team_id)
            .where(
                Team.workspace_id == workspace_id,
                col(CommitmentCheckIn.reflection).is_not(None),
                func.coalesce(CommitmentCheckIn.answered_at, CommitmentCheckIn.asked_at) < cutoff,
            )
        )
    if kind == CHAT:
        return (
            select(LocalMessage.id)
            .join(Person, col(Person.id) == LocalMessage.person_id)
            .where(Person.workspace_id == workspace_id, col(LocalMessage.updated_at) < cutoff)
        )
    if kind == DIGESTS:
        return (
            select(Digest.id)
            .join(Team, col(Team.id) == Digest.team_id)
            .where(
                Team.workspace_id == workspace_id,
                col(Digest.created_at) < cutoff,
                cast(Digest.message, Text) != _EMPTY,
            )
        )
    raise ValueError(f"no kind {kind!r}")


async def count(session: AsyncSession, workspace_id: int, cutoff: datetime) -> dict[str, int]:
    """How many rows of each kind the purge would remove now."""
    due_rounds = _rounds_due(workspace_id, cutoff).subquery()
    found = {
        PULSE_ANSWERS: select(func.count()).where(
            col(PulseAnswer.round_id).in_(select(due_rounds))
        ),
        PULSE_COMMENTS: select(func.count()).where(
            col(PulseComment.round_id).in_(select(due_rounds))
        ),
    }
    due_checks = due_check_ids(workspace_id, cutoff).subquery()
    found[CONTRACT_RATINGS] = select(func.count()).where(
        col(ContractRating.check_id).in_(select(due_checks))
    )
    counts = {kind: int((await session.exec(q)).one()) for kind, q in found.items()}
    for kind in (CONTRACT_COMMENTS, REFLECTIONS, CHAT, DIGESTS):
        ids = _due_ids(kind, workspace_id, cutoff).subquery()
        counts[kind] = int((await session.exec(select(func.count()).select_from(ids))).one())
    return counts


async def purge_batch(
    session: AsyncSession, kind: str, workspace_id: int, cutoff: datetime, limit: int
) -> int:
    """Remove at most `limit` rows of `kind` (pulse rounds excepted: `purge_round`) in
    the caller's transaction; how many went. Reflections and digest texts are emptied,
    their rows kept; the others are deleted."""
    query = _due_ids(kind, workspace_id, cutoff)
    ids = list((await session.exec(query.order_by(query.selected_columns[0]).limit(limit))).all())
    if not ids:
        return 0
    statement: Any
    if kind == CONTRACT_COMMENTS:
        statement = delete(ContractComment).where(col(ContractComment.id).in_(ids))
    elif kind == REFLECTIONS:
        statement = (
            update(CommitmentCheckIn)
            .where(col(CommitmentCheckIn.id).in_(ids))
            .values(reflection=None)
        )
    elif kind == CHAT:
        statement = delete(LocalMessage).where(col(LocalMessage.id).in_(ids))
    else:
        statement = update(Digest).where(col(Digest.id).in_(ids)).values(message={}, content={})
    await session.exec(statement)
    return len(ids)


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class Window:
    """How long one program, contract or open round of a workspace collects answers."""

    kind: str  # pulse program | contract | open pulse round | open contract check
    team: str  # the team's key
    hours: float
    program: str | None = None  # a pulse program's key
    number: int | None = None  # an open round's or check's number


async def windows(session: AsyncSession, workspace_id: int) -> list[Window]:
    """Every answer window in the workspace: active pulse programs' and contracts'
    configured windows, and open rounds' and checks' actual ones (opening to close:
    longer when sends wait for people's working hours)."""
    found: list[Window] = []
    programs = await session.exec(
        select(PulseProgram.key, PulseProgram.window_hours, Team.key)
        .join(Team, col(Team.id) == PulseProgram.team_id)
        .where(Team.workspace_id == workspace_id, col(PulseProgram.active).is_(True))
    )
    for key, hours, team in programs.all():
        found.append(Window("pulse program", team, float(hours), program=key))
    contracts = await session.exec(
        select(TeamContract.window_hours, Team.key)
        .join(Team, col(Team.id) == TeamContract.team_id)
        .where(Team.workspace_id == workspace_id, col(TeamContract.active).is_(True))
    )
    for hours, team in contracts.all():
        found.append(Window("contract", team, float(hours)))
    models: tuple[tuple[Any, str], ...] = (
        (PulseRound, "open pulse round"),
        (ContractCheck, "open contract check"),
    )
    for model, kind in models:
        rows = await session.exec(
            select(model.number, model.opened_at, model.closes_at, Team.key)
            .join(Team, col(Team.id) == model.team_id)
            .where(Team.workspace_id == workspace_id, model.status == "open")
        )
        for number, opened, closes, team in rows.all():
            span = (closes - opened).total_seconds() / 3600
            found.append(Window(kind, team, span, number=number))
    return found
