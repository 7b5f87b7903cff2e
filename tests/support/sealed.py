"""What an attacker with the database's files or superuser SQL finds after an
anonymous collection (a pulse round, a contract check) closed: the checks shared by
tests/pulse/test_adversary.py and tests/contracts/test_adversary.py (issue #13)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url, text

from storage.core.db import Database
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import Org, running_org
from tests.support.raw_db import pg_pages, pg_tuples, sqlite_files

CHAT = ("local_message", "outbox_message")
EIGHT = ("ana", "ben", "chloe", "dev", "eve", "finn", "gus", "hana")


@dataclass
class Secrets:
    """What only the open round or check knew."""

    collection_id: int = 0  # the round's or check's id
    asked: tuple[str, ...] = ()  # the items or norms it asked
    key: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # handle -> HMAC token
    order: list[str] = field(default_factory=list)  # who answered first, second, ...


@asynccontextmanager
async def org_on(db: Database, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Org]:
    """An organisation of EIGHT executives, running on `db` (SQLite or PostgreSQL)."""
    url = make_url(db.url)
    plain = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=False)
    async with running_org(tmp_path, clock, executives=EIGHT, database_url=plain) as running:
        yield running


def first_seen(tokens: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for token in tokens:
        if token not in seen:
            seen.append(token)
    return seen


async def stored_messages(db: Database, person_ids: Collection[int] | None) -> str:
    """Every stored message version (local chat, outbox), of these people or everyone's."""
    people = ",".join(map(str, person_ids or ()))
    where = f" WHERE person_id IN ({people})" if person_ids is not None else ""
    async with db.engine.connect() as connection:
        rows = (await connection.execute(text(f"SELECT payload FROM local_message{where}"))).all()
        rows += (await connection.execute(text(f"SELECT payload FROM outbox_message{where}"))).all()
    return "\n".join(json.dumps(r[0]) if not isinstance(r[0], str) else r[0] for r in rows)


async def count_rows(db: Database, tables: Sequence[str]) -> dict[str, int]:
    async with db.engine.connect() as connection:
        return {
            table: int(
                (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            )
            for table in tables
        }


async def no_secret_in_files(
    db: Database,
    secrets: Sequence[str],
    comments: Sequence[str],
    live: dict[str, int],
    stopped: bool,
) -> None:
    """Neither the key nor any HMAC token it made is in any byte of the files (SQLite:
    main and -wal; PostgreSQL: every page of every relation), and each comment is there
    once, plus its `live` copies in chat tables (the coach's results); SQLite's WAL
    is checkpointed and emptied at close when no sender wrote after it."""
    if db.dialect == "sqlite":
        files = sqlite_files(db)
        if stopped:
            assert files["wal"] == b""
        both = files["main"] + files["wal"]  # with a sender: its later writes only
        for secret in secrets:
            assert secret.encode() not in both
            assert bytes.fromhex(secret) not in both
        if stopped:  # the sealed copy and the coach's results, nothing stale
            for comment in comments:
                assert files["main"].count(comment.encode()) == 1 + live[comment]
        return
    pages = await pg_pages(db)
    everything = b"".join(pages.values())
    for secret in secrets:
        assert secret.encode() not in everything, [
            n for n, b in pages.items() if secret.encode() in b
        ]
    # One copy of each comment outside the chat tables: none in free space or a dead
    # version of the open tables, their indexes or TOAST.
    sealed = b"".join(b for n, b in pages.items() if n not in CHAT)
    for comment in comments:
        assert sealed.count(comment.encode()) == 1


async def one_writer(
    db: Database, answers: str, comments: str, invites: str, person_side: Sequence[str]
) -> None:
    """PostgreSQL: every sealed answer and comment, and every invite, was written by
    one transaction, the close's; no dead version keeps an answer's transaction id,
    and a person-side row shares one only when it is the close's."""
    answer_rows = await pg_tuples(db, answers)
    comment_rows = await pg_tuples(db, comments)
    assert all(t.live for t in answer_rows + comment_rows if t.data)
    (close_xid,) = {t.xmin for t in answer_rows + comment_rows if t.data}
    invite_rows = await pg_tuples(db, invites)
    assert all(t.live for t in invite_rows if t.data)
    assert {t.xmin for t in invite_rows if t.data} == {close_xid}
    for table in (*CHAT, *person_side):
        for row in await pg_tuples(db, table):
            assert row.xmin == close_xid or row.xmin not in {t.xmin for t in answer_rows}
    physical = [(t.block, t.lp) for t in answer_rows]
    assert physical == sorted(physical)


async def physical_order(db: Database, table: str) -> list[str]:
    """PostgreSQL: respondents of `table` in physical (ctid) order."""
    async with db.engine.connect() as connection:
        query = text(f"SELECT respondent FROM {table} ORDER BY ctid")
        return list((await connection.execute(query)).scalars())
