"""Sealing a round at close: what makes "nothing links an answer to a person" true of
the database's rows, row versions, pages and log, not only of its columns.

While a round is open its answers and comments are held apart (`pulse_open_answer`,
`pulse_open_comment`) under HMAC tokens whose key is in `pulse_round_key`, written in
the same transactions that mark the person's invite answered. The close, in one
transaction:

- copies them into `pulse_answer` and `pulse_comment` in random order (ids and
  physical order say nothing of who answered first), anonymous rounds under fresh
  random tokens: one per respondent for answers (scores per person still count once),
  and one per comment, unrelated to any answer token;
- deletes the open rows and the round key;
- rewrites every invite of the round, so no invite keeps the transaction id of the
  transaction that stored its person's first answer;
- closes the round.

After the commit, `Database.scrub(SCRUBBED)` has the database rewrite what the
deleted rows occupied (VACUUM FULL of the open-round tables and VACUUM of the
others on PostgreSQL; secure_delete, VACUUM and a truncating WAL checkpoint on SQLite).
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.pulse.models import (
    PulseAnswer,
    PulseComment,
    PulseInvite,
    PulseOpenAnswer,
    PulseOpenComment,
    PulseRound,
    PulseRoundKey,
)

# Tables whose deleted row versions held something that linked a person to an answer:
# rewritten whole (small: only open rounds' rows live there).
REWRITTEN = ("pulse_open_answer", "pulse_open_comment", "pulse_round_key")
# Tables the close changes rows of: their dead versions are reclaimed.
VACUUMED = ("pulse_answer", "pulse_comment", "pulse_invite", "local_message", "outbox_message")

_random = random.SystemRandom()
PAGE = 1000


def fresh_token() -> str:
    return secrets.token_hex(20)


async def seal(session: AsyncSession, round_: PulseRound, now: datetime) -> None:
    round_id = round_.id or 0
    anonymous = round_.privacy == "anonymous"
    # Closed first: on PostgreSQL the row lock waits for every answer transaction
    # holding the round FOR SHARE (storage/pulse/answers.py) and refuses later ones, so
    # no answer lands in the open table after it was read below; on SQLite this takes
    # the write lock.
    await session.exec(
        update(PulseRound)
        .where(col(PulseRound.id) == round_id)
        .values(status="closed", closed_at=now)
    )
    answers = (
        await session.exec(
            select(
                PulseOpenAnswer.respondent, PulseOpenAnswer.item_key, PulseOpenAnswer.score
            ).where(PulseOpenAnswer.round_id == round_id)
        )
    ).all()
    comments = (
        await session.exec(
            select(PulseOpenComment.respondent, PulseOpenComment.text).where(
                PulseOpenComment.round_id == round_id
            )
        )
    ).all()
    tokens: dict[str, str] = {}
    rows = []
    for respondent, item_key, score in answers:
        token = tokens.setdefault(respondent, fresh_token()) if anonymous else respondent
        rows.append(
            {"round_id": round_id, "respondent": token, "item_key": item_key, "score": score}
        )
    notes = [
        {"round_id": round_id, "respondent": fresh_token() if anonymous else who, "text": text}
        for who, text in comments
    ]
    _random.shuffle(rows)
    _random.shuffle(notes)
    # Multi-row INSERTs, in pages under the drivers' parameter limits: rows get their
    # ids in this (random) order.
    for table, values in ((PulseAnswer, rows), (PulseComment, notes)):
        for start in range(0, len(values), PAGE):
            page = values[start : start + PAGE]
            await session.exec(insert(table).values(page))
    await session.exec(delete(PulseOpenAnswer).where(col(PulseOpenAnswer.round_id) == round_id))
    await session.exec(delete(PulseOpenComment).where(col(PulseOpenComment.round_id) == round_id))
    await session.exec(delete(PulseRoundKey).where(col(PulseRoundKey.round_id) == round_id))
    await session.exec(
        update(PulseInvite)
        .where(col(PulseInvite.round_id) == round_id)
        .values(answered=PulseInvite.answered)
    )
    round_.status = "closed"
    round_.closed_at = now
    session.add(round_)
