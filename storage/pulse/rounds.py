"""Queries for pulse programs, rounds, invites, answers and comments.

Reads of closed rounds (results, digests) and recording finished ones: pulse_history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import anonymity
from storage.core.models import Membership, OutboxMessage, Person, Role, Team, Workspace
from storage.pulse.models import (
    PulseInvite,
    PulseOpenAnswer,
    PulseOpenComment,
    PulseParticipant,
    PulseProgram,
    PulseRound,
    PulseRoundKey,
)
from storage.pulse.seal import seal

ANONYMOUS = "anonymous"
CONFIDENTIAL = "confidential"


async def programs_for_team(session: AsyncSession, team_id: int) -> list[PulseProgram]:
    query = (
        select(PulseProgram)
        .where(PulseProgram.team_id == team_id, col(PulseProgram.active).is_(True))
        .order_by(col(PulseProgram.id))
    )
    return list((await session.exec(query)).all())


async def open_round(session: AsyncSession, program_id: int) -> PulseRound | None:
    query = select(PulseRound).where(
        PulseRound.program_id == program_id,
        PulseRound.status == "open",
        PulseRound.kind != "test",
    )
    return (await session.exec(query)).first()


async def open_rounds_of(
    session: AsyncSession, program_ids: Sequence[int]
) -> dict[int, PulseRound]:
    """`open_round` of many programs in one query: program id -> its open round."""
    query = select(PulseRound).where(
        col(PulseRound.program_id).in_(list(program_ids)),
        PulseRound.status == "open",
        PulseRound.kind != "test",
    )
    return {r.program_id: r for r in (await session.exec(query)).all()}


async def next_round_numbers(session: AsyncSession, program_ids: Sequence[int]) -> dict[int, int]:
    """The number the next round of each program gets (1 for a program without rounds)."""
    query = (
        select(PulseRound.program_id, func.max(PulseRound.number))
        .where(col(PulseRound.program_id).in_(list(program_ids)))
        .group_by(col(PulseRound.program_id))
    )
    found = {program_id: int(n or 0) for program_id, n in (await session.exec(query)).all()}
    return {program_id: found.get(program_id, 0) + 1 for program_id in program_ids}


async def create_round(
    session: AsyncSession, round_: PulseRound, invitee_ids: Sequence[int]
) -> PulseRound:
    """The round, its secret key (anonymous mode) and its invites, in one go."""
    await create_rounds(session, [(round_, invitee_ids)])
    return round_


async def create_rounds(
    session: AsyncSession, rounds: Sequence[tuple[PulseRound, Sequence[int]]]
) -> None:
    """Many rounds with their keys and invites: one statement per table, however many
    rounds and people (the rounds get their ids)."""
    if not rounds:
        return
    # Core, not the ORM: SQLite would get one INSERT per round to learn their ids.
    table = SQLModel.metadata.tables["pulse_round"]
    columns = [c.name for c in table.columns if c.name != "id"]
    statement = insert(table).returning(table.c.id, table.c.program_id, table.c.number)
    rows = [{name: getattr(round_, name) for name in columns} for round_, _ in rounds]
    ids = {(p, n): i for i, p, n in (await session.exec(statement, params=rows)).all()}
    for round_, _ in rounds:
        round_.id = ids[(round_.program_id, round_.number)]
        make_transient_to_detached(round_)
        session.add(round_)  # persistent, as if loaded: no second INSERT
    keys = [
        PulseRoundKey(round_id=round_.id or 0, key=anonymity.new_key())
        for round_, _ in rounds
        if round_.privacy == ANONYMOUS
    ]
    session.add_all(keys)
    invites = [
        {"round_id": round_.id, "person_id": p, "answered": False, "skipped": False}
        for round_, invitee_ids in rounds
        for p in invitee_ids
    ]
    if invites:  # one executemany, paged by the driver however large
        await session.exec(insert(SQLModel.metadata.tables["pulse_invite"]), params=invites)


async def respondent_token(session: AsyncSession, round_: PulseRound, person_id: int) -> str | None:
    """The opaque token under which a person's answers are stored in this round.

    Anonymous: HMAC with the round's key, which exists only while the round is open.
    Confidential: a stable per-person token (results are still only shown in aggregate).
    """
    if round_.privacy == CONFIDENTIAL:
        return anonymity.confidential_token(person_id)
    key = await session.get(PulseRoundKey, round_.id)
    return None if key is None else anonymity.anonymous_token(key.key, round_.id or 0, person_id)


async def invite_for(session: AsyncSession, round_id: int, person_id: int) -> PulseInvite | None:
    query = select(PulseInvite).where(
        PulseInvite.round_id == round_id, PulseInvite.person_id == person_id
    )
    return (await session.exec(query)).first()


async def invites(session: AsyncSession, round_id: int) -> list[PulseInvite]:
    query = (
        select(PulseInvite)
        .where(PulseInvite.round_id == round_id)
        .order_by(col(PulseInvite.person_id))
    )
    return list((await session.exec(query)).all())


async def answers_of(session: AsyncSession, round_id: int, respondent: str) -> dict[str, int]:
    """A respondent's answers in a round still open (held apart until the close)."""
    query = select(PulseOpenAnswer.item_key, PulseOpenAnswer.score).where(
        PulseOpenAnswer.round_id == round_id, PulseOpenAnswer.respondent == respondent
    )
    return {key: score for key, score in (await session.exec(query)).all()}


async def save_answers(
    session: AsyncSession, round_id: int, respondent: str, answers: dict[str, int]
) -> None:
    """Set a respondent's answers in an open round: these items to these scores."""
    for item_key, score in answers.items():
        found = await session.get(PulseOpenAnswer, (round_id, respondent, item_key))
        if found is None:
            found = PulseOpenAnswer(
                round_id=round_id, respondent=respondent, item_key=item_key, score=score
            )
        elif found.score == score:
            continue  # unchanged: no new row version
        found.score = score
        session.add(found)


async def save_comment(
    session: AsyncSession, round_id: int, respondent: str, text: str | None
) -> bool:
    """Set (or with None, remove) a respondent's comment; False when it was already so."""
    comment = await session.get(PulseOpenComment, (round_id, respondent))
    if text is None:
        if comment is None:
            return False
        await session.delete(comment)
        return True
    if comment is not None and comment.text == text:
        return False  # a resend: stored once
    if comment is None:
        comment = PulseOpenComment(round_id=round_id, respondent=respondent, text=text)
    comment.text = text
    session.add(comment)
    return True


async def comment_of(session: AsyncSession, round_id: int, respondent: str) -> str | None:
    query = select(PulseOpenComment.text).where(
        PulseOpenComment.round_id == round_id, PulseOpenComment.respondent == respondent
    )
    return (await session.exec(query)).first()


async def rounds_due_to_close(session: AsyncSession, now: datetime) -> list[PulseRound]:
    query = select(PulseRound).where(PulseRound.status == "open", col(PulseRound.closes_at) <= now)
    return list((await session.exec(query)).all())


async def close_round(session: AsyncSession, round_: PulseRound, now: datetime) -> None:
    """Close the round: its answers sealed (storage/pulse/seal.py), its key destroyed.
    The caller scrubs the database after the commit (`Database.scrub`)."""
    await seal(session, round_, now)


async def participant(session: AsyncSession, program_id: int, person_id: int) -> PulseParticipant:
    query = select(PulseParticipant).where(
        PulseParticipant.program_id == program_id, PulseParticipant.person_id == person_id
    )
    found = (await session.exec(query)).first()
    if found is None:
        found = PulseParticipant(program_id=program_id, person_id=person_id)
        session.add(found)
    return found


async def paused_people(session: AsyncSession, program_ids: Sequence[int]) -> dict[int, set[int]]:
    """program id -> the people the fatigue governor paused in it."""
    query = select(PulseParticipant.program_id, PulseParticipant.person_id).where(
        col(PulseParticipant.program_id).in_(list(program_ids)),
        col(PulseParticipant.paused_at).is_not(None),
    )
    paused: dict[int, set[int]] = {program_id: set() for program_id in program_ids}
    for program_id, person_id in (await session.exec(query)).all():
        paused[program_id].add(person_id)
    return paused


async def prompts_since(
    session: AsyncSession, person_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Pulse prompts each person was sent (or is about to be) since `since`."""
    query = (
        select(OutboxMessage.person_id, func.count())
        .where(
            col(OutboxMessage.person_id).in_(list(person_ids)),
            OutboxMessage.kind == "pulse",
            col(OutboxMessage.not_before) >= since,
            col(OutboxMessage.status).in_(["pending", "sent"]),
        )
        .group_by(col(OutboxMessage.person_id))
    )
    return {person_id: int(n) for person_id, n in (await session.exec(query)).all()}


async def rounds_for_occurrences(
    session: AsyncSession, occurrences: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], PulseRound]:
    """(program id, occurrence) -> the round that occurrence opened, for those opened."""
    if not occurrences:
        return {}
    query = select(PulseRound).where(
        col(PulseRound.program_id).in_(sorted({p for p, _ in occurrences})),
        col(PulseRound.occurrence).in_(sorted({o for _, o in occurrences})),
    )
    wanted = set(occurrences)
    rounds = (await session.exec(query)).all()
    return {key: r for r in rounds if (key := (r.program_id, r.occurrence or "")) in wanted}


async def programs_with_teams(
    session: AsyncSession, program_ids: Sequence[int]
) -> dict[int, tuple[PulseProgram, Team, Workspace]]:
    """Programs by id with their team and workspace, in one query."""
    query = (
        select(PulseProgram, Team, Workspace)
        .join(Team, col(Team.id) == PulseProgram.team_id)
        .join(Workspace, col(Workspace.id) == Team.workspace_id)
        .where(col(PulseProgram.id).in_(list(program_ids)))
    )
    return {p.id or 0: (p, t, w) for p, t, w in (await session.exec(query)).all()}


async def executives(session: AsyncSession, team_ids: Sequence[int]) -> dict[int, list[Person]]:
    """team id -> its executives (as `directory.members`), for many teams in one query."""
    query = (
        select(Membership.team_id, Person)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(col(Membership.team_id).in_(list(team_ids)), Membership.role == Role.EXECUTIVE)
        .order_by(col(Membership.team_id), col(Person.id))
    )
    found: dict[int, list[Person]] = {team_id: [] for team_id in team_ids}
    for team_id, person in (await session.exec(query)).all():
        found[team_id].append(person)
    return found


async def program(session: AsyncSession, program_id: int) -> PulseProgram | None:
    return await session.get(PulseProgram, program_id)


async def active_programs(session: AsyncSession) -> list[PulseProgram]:
    query = select(PulseProgram).where(col(PulseProgram.active).is_(True))
    return list((await session.exec(query)).all())


async def program_by_key(session: AsyncSession, team_id: int, key: str) -> PulseProgram | None:
    query = select(PulseProgram).where(PulseProgram.team_id == team_id, PulseProgram.key == key)
    return (await session.exec(query)).first()


async def all_programs(session: AsyncSession) -> list[tuple[PulseProgram, Team, Workspace]]:
    query = (
        select(PulseProgram, Team, Workspace)
        .join(Team, col(Team.id) == PulseProgram.team_id)
        .join(Workspace, col(Workspace.id) == Team.workspace_id)
        .order_by(col(Workspace.key), col(Team.key), col(PulseProgram.key))
    )
    return [(p, t, w) for p, t, w in (await session.exec(query)).all()]
