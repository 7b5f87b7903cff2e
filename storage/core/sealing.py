"""Sealing an anonymous collection at its close, whatever collected it (pulse rounds:
storage/pulse/seal.py; contract checks: storage/contracts/seal.py): what makes
"nothing links an answer to a person" true of the database's rows, row versions,
pages and log, not only of its columns.

While open, answers and comments are held apart in open tables under respondent
tokens (anonymous: HMACs with a per-collection key), written in the same transactions
that mark the person's invite answered. The close, in one transaction:

- marks the collection closed first (see `seal`);
- copies the open rows into the sealed tables in random order (ids and physical order
  say nothing of who answered first), anonymous ones under fresh random tokens: one per
  respondent for answers (scores per person still count once), and one per comment,
  unrelated to any answer token;
- deletes the open rows and the key;
- rewrites every invite, so no invite keeps the transaction id of the transaction that
  stored its person's first answer.

After the commit, `Database.scrub(spec.rewritten, spec.vacuumed)` has the database
rewrite what the deleted rows occupied (VACUUM FULL of the open tables and VACUUM of
the others on PostgreSQL; secure_delete, VACUUM and a truncating WAL checkpoint on
SQLite)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

_random = random.SystemRandom()
PAGE = 1000


@dataclass(frozen=True)
class Sealing:
    """The tables of one kind of collection. Every table but `parent` has a column
    `parent_column` naming the collection; answer tables have (respondent, `key`,
    score), comment tables (respondent, text)."""

    parent: Table  # has id, status, closed_at
    parent_column: str
    key: str  # what an answer answers: item_key, norm_key
    open_answers: Table
    open_comments: Table
    secret: Table  # the per-collection key, deleted at close
    invites: Table  # has answered
    answers: Table
    comments: Table
    rewritten: tuple[str, ...]  # tables whose dead rows linked: rewritten whole
    vacuumed: tuple[str, ...]  # tables the close changes rows of: dead versions reclaimed


def fresh_token() -> str:
    return secrets.token_hex(20)


def sealed_answers(
    parent: dict[str, int], key: str, answers: Sequence[Any], anonymous: bool
) -> list[dict[str, Any]]:
    tokens: dict[str, str] = {}
    rows = [
        {
            **parent,
            "respondent": tokens.setdefault(who, fresh_token()) if anonymous else who,
            key: value,
            "score": score,
        }
        for who, value, score in answers
    ]
    _random.shuffle(rows)
    return rows


def sealed_comments(
    parent: dict[str, int], comments: Sequence[Any], anonymous: bool
) -> list[dict[str, Any]]:
    notes = [
        {**parent, "respondent": fresh_token() if anonymous else who, "text": text}
        for who, text in comments
    ]
    _random.shuffle(notes)
    return notes


async def _insert_in_order(session: AsyncSession, table: Table, values: list[Any]) -> None:
    """Multi-row INSERTs, in pages under the drivers' parameter limits: rows get their
    ids in the (random) order given."""
    for start in range(0, len(values), PAGE):
        await session.exec(insert(table).values(values[start : start + PAGE]))


async def seal(
    session: AsyncSession, spec: Sealing, parent_id: int, anonymous: bool, now: datetime
) -> None:
    """Seal collection `parent_id` in the caller's transaction (see the module)."""
    # Closed first: on PostgreSQL the row lock waits for every answer transaction
    # holding the collection FOR SHARE and refuses later ones, so no answer lands in
    # an open table after it was read below; on SQLite this takes the write lock.
    await session.exec(
        update(spec.parent)
        .where(spec.parent.c.id == parent_id)
        .values(status="closed", closed_at=now)
    )
    answers, notes = spec.open_answers, spec.open_comments

    def of(table: Table) -> Any:
        return table.c[spec.parent_column] == parent_id

    found = (
        await session.exec(
            select(answers.c.respondent, answers.c[spec.key], answers.c.score).where(of(answers))
        )
    ).all()
    said = (await session.exec(select(notes.c.respondent, notes.c.text).where(of(notes)))).all()
    parent = {spec.parent_column: parent_id}
    await _insert_in_order(
        session, spec.answers, sealed_answers(parent, spec.key, found, anonymous)
    )
    await _insert_in_order(session, spec.comments, sealed_comments(parent, said, anonymous))
    for table in (answers, notes, spec.secret):
        await session.exec(delete(table).where(of(table)))
    invites = spec.invites
    await session.exec(update(invites).where(of(invites)).values(answered=invites.c.answered))
