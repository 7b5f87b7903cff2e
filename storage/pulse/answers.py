"""Answers in bulk: what one group commit of pulse clicks reads and writes.

Clicks arrive faster than one transaction each can keep up with, so the answer desk
(handlers/pulse_answers.py) writes them a batch at a time; every statement here
takes the whole batch. The batch's transaction is one synchronous function
(`store_batch`, run by `Database.transact`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import outbox
from storage.core.dialects import insert_for
from storage.core.models import Person, Team, Workspace
from storage.pulse.models import (
    PulseInvite,
    PulseOpenAnswer,
    PulseOpenComment,
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


@dataclass(frozen=True)
class Stored:
    """What one group commit stored: the rounds still open, and each (round id,
    respondent)'s answers and comment after it, for re-rendering."""

    open_rounds: set[int]
    answers: dict[tuple[int, str], dict[str, int]]
    comments: dict[tuple[int, str], str]


def store_batch(
    connection: Connection,
    rows: Sequence[AnswerRow],
    firsts: Sequence[tuple[int, int]],
    cancel: Mapping[int, Sequence[str]],
) -> Stored:
    """One group commit (run by `Database.transact`): the answers of rounds still
    open, their first answerers' invites marked, the outbox prefixes in `cancel` (by
    round) cancelled, and everyone's answers read back."""
    still_open = open_among(connection, {row.round_id for row in rows})
    kept = [row for row in rows if row.round_id in still_open]
    save_answers(connection, kept)
    mark_answered(connection, [pair for pair in firsts if pair[0] in still_open])
    prefixes = [p for round_id in still_open for p in cancel.get(round_id, ())]
    outbox.cancel_prefixes(connection, prefixes, "answered")
    answers, comments = answers_and_comments(
        connection, {(row.round_id, row.respondent) for row in kept}
    )
    return Stored(still_open, answers, comments)


# Built once: a statement built per call costs more than SQLite takes to run it
# (construction and cache keys, ~0.3 ms per batch); bound values vary, statements don't.
# Answers of open rounds are held apart until the close (storage/pulse/seal.py).
_ROUNDS = PulseRound.__table__  # type: ignore[attr-defined]
_ANSWERS = PulseOpenAnswer.__table__  # type: ignore[attr-defined]
_COMMENTS = PulseOpenComment.__table__  # type: ignore[attr-defined]
_INVITES = PulseInvite.__table__  # type: ignore[attr-defined]
_OPEN_AMONG = (
    sa_select(_ROUNDS.c.id)
    .where(_ROUNDS.c.id.in_(bindparam("ids", expanding=True)), _ROUNDS.c.status == "open")
    .with_for_update(read=True)
)
_MARK_ANSWERED = (
    update(_INVITES)
    .where(
        _INVITES.c.round_id == bindparam("r"),
        _INVITES.c.person_id == bindparam("p"),
        _INVITES.c.answered.is_(False),
    )
    .values(answered=True)
)
_ANSWERS_OF = sa_select(_ANSWERS.c.respondent, _ANSWERS.c.item_key, _ANSWERS.c.score).where(
    _ANSWERS.c.round_id == bindparam("round"),
    _ANSWERS.c.respondent.in_(bindparam("who", expanding=True)),
)
_COMMENTS_OF = sa_select(_COMMENTS.c.respondent, _COMMENTS.c.text).where(
    _COMMENTS.c.round_id == bindparam("round"),
    _COMMENTS.c.respondent.in_(bindparam("who", expanding=True)),
)


def _upsert(dialect: str) -> Any:
    statement = insert_for(dialect)(_ANSWERS)
    return statement.on_conflict_do_update(
        index_elements=["round_id", "respondent", "item_key"],
        set_={"score": statement.excluded.score},
    )


_UPSERTS = {dialect: _upsert(dialect) for dialect in ("postgresql", "sqlite")}


def open_among(connection: Connection, round_ids: Iterable[int]) -> set[int]:
    """Which of these rounds are still open. FOR SHARE on PostgreSQL: a close waits
    for this commit, so no answer lands in a round after it closed (SQLite's
    transaction began IMMEDIATE, which does the same)."""
    wanted = sorted(set(round_ids))
    if not wanted:
        return set()
    return {int(i) for i in connection.execute(_OPEN_AMONG, {"ids": wanted}).scalars()}


def save_answers(connection: Connection, rows: Sequence[AnswerRow]) -> None:
    """Insert or change many answers in one statement; the last click on an item wins."""
    latest = {(r.round_id, r.respondent, r.item_key): r.score for r in rows}
    if latest:
        connection.execute(
            _UPSERTS[connection.dialect.name],
            [
                {"round_id": r, "respondent": who, "item_key": item, "score": score}
                for (r, who, item), score in latest.items()
            ],
        )


def mark_answered(connection: Connection, pairs: Iterable[tuple[int, int]]) -> None:
    """Invites (round id, person id) that now have an answer."""
    wanted = sorted(set(pairs))
    if wanted:
        connection.execute(_MARK_ANSWERED, [{"r": r, "p": p} for r, p in wanted])


def answers_and_comments(
    connection: Connection, keys: Iterable[tuple[int, str]]
) -> tuple[dict[tuple[int, str], dict[str, int]], dict[tuple[int, str], str]]:
    """Each (round id, respondent)'s answers so far and comment, for re-rendering.

    One round at a time (a batch nearly always holds one): `round_id = ? AND
    respondent IN (...)` walks the (round_id, respondent, item_key) index, where a
    row-value IN over the pair makes SQLite scan every answer ever given."""
    wanted = set(keys)
    answers: dict[tuple[int, str], dict[str, int]] = {key: {} for key in wanted}
    comments: dict[tuple[int, str], str] = {}
    by_round: dict[int, list[str]] = {}
    for round_id, respondent in sorted(wanted):
        by_round.setdefault(round_id, []).append(respondent)
    for round_id, respondents in by_round.items():
        params = {"round": round_id, "who": respondents}
        for respondent, item_key, score in connection.execute(_ANSWERS_OF, params):
            answers[(round_id, respondent)][item_key] = score
        for respondent, text in connection.execute(_COMMENTS_OF, params):
            comments[(round_id, respondent)] = text
    return answers, comments


@dataclass(frozen=True)
class FormSaved:
    """What a form submission left: None when the round had closed meanwhile."""

    answers: dict[str, int]
    comment: str | None
    comment_changed: bool


_DELETE_COMMENT = _COMMENTS.delete().where(
    _COMMENTS.c.round_id == bindparam("round"), _COMMENTS.c.respondent == bindparam("who")
)


def _comment_upsert(dialect: str) -> Any:
    statement = insert_for(dialect)(_COMMENTS)
    return statement.on_conflict_do_update(
        index_elements=["round_id", "respondent"], set_={"text": statement.excluded.text}
    )


_COMMENT_UPSERTS = {dialect: _comment_upsert(dialect) for dialect in ("postgresql", "sqlite")}


def store_form(
    connection: Connection,
    round_id: int,
    person_id: int,
    respondent: str,
    answers: Mapping[str, int],
    comment: str | None,
    cancel: str,
    with_comment: bool = True,
) -> FormSaved | None:
    """One private form's answers and comment (None: no comment; `with_comment`
    False: the form had no comment box, the saved one stays), in one transaction (run
    by `Database.transact`), if the round is still open: the invite marked answered
    and the reminders under `cancel` cancelled. A resent comment is stored once: an
    unchanged text writes nothing."""
    if round_id not in open_among(connection, [round_id]):
        return None
    save_answers(connection, [AnswerRow(round_id, respondent, k, s) for k, s in answers.items()])
    before = answers_and_comments(connection, [(round_id, respondent)])[1].get(
        (round_id, respondent)
    )
    if not with_comment:
        comment = before
    changed = before != comment
    params = {"round": round_id, "who": respondent}
    if changed and comment is None:
        connection.execute(_DELETE_COMMENT, params)
    elif changed:
        connection.execute(
            _COMMENT_UPSERTS[connection.dialect.name],
            {"round_id": round_id, "respondent": respondent, "text": comment},
        )
    if answers or comment:
        mark_answered(connection, [(round_id, person_id)])
        outbox.cancel_prefixes(connection, [cancel], "answered")
    mine, comments = answers_and_comments(connection, [(round_id, respondent)])
    return FormSaved(mine[(round_id, respondent)], comments.get((round_id, respondent)), changed)
