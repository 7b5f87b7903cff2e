"""An attacker with the database's files (SQLite: the main file and its -wal) or
superuser SQL (PostgreSQL: live and dead tuples through pageinspect, xmin, physical
order, every page's raw bytes) after an anonymous contract check of 8 closed, with and
without a sender running: nothing may link a person to a rating or a comment (issue #13).

Kinds of link tried, as for pulse rounds (tests/pulse/test_adversary.py): the check's
key or any HMAC token it made; ids or physical order following the order people
answered; transaction ids shared by an invite and ratings; a comment's token equal to
ratings' tokens; any stored message version (local chat, outbox) holding a chosen
rating or a comment; per-person versions of the check's message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from handlers.contracts.schedule import close_check
from storage.contracts.models import TeamContract
from storage.core import anonymity
from storage.core.db import Database
from tests.support.clock import FakeClock
from tests.support.contracts import open_contract_check, open_form
from tests.support.pulse_fixtures import Org
from tests.support.sealed import (
    EIGHT,
    Secrets,
    count_rows,
    first_seen,
    no_secret_in_files,
    one_writer,
    org_on,
    physical_order,
    stored_messages,
)

# Distinct ratings per person for the check's two norms (1-5), and a distinct comment each.
PAIRS = {h: (1 + n % 5, 1 + (n * 2 + n // 5) % 5) for n, h in enumerate(EIGHT)}
COMMENTS = {
    h: f"Norm note {n}: {'room help kindly decide'.split()[n % 4]} {n * 7907}"
    for n, h in enumerate(EIGHT)
}


@pytest.fixture
async def org(any_db: Database, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Org]:
    async with org_on(any_db, tmp_path, clock) as running:
        yield running


async def _answer_check(org: Org) -> Secrets:
    check = await open_contract_check(org.app, org.ids["team"])
    async with org.app.db.session() as session:
        for row in (await session.exec(select(TeamContract))).all():
            row.team_sees_results = False  # the coach's results hold the comments
            session.add(row)
    secrets = Secrets(collection_id=check.id or 0, asked=tuple(check.norm_keys))
    async with org.app.db.engine.connect() as connection:
        secrets.key = (
            await connection.execute(text("SELECT key FROM contract_check_key"))
        ).scalar_one()
    for handle in EIGHT:
        secrets.tokens[handle] = anonymity.anonymous_token(
            secrets.key, secrets.collection_id, org.ids[handle]
        )
    # Answering in a known order through both paths: a single rating (API clients and
    # older messages), then the private form (twice for some: a change and a resend).
    for n, handle in enumerate(reversed(EIGHT)):
        if n % 2:
            value = f"{secrets.collection_id}:{secrets.asked[0]}:{6 - PAIRS[handle][0]}"
            status, body = await org.click(handle, "contract.rate", value)
            assert status == 200, body
        message, form = await open_form(org, handle)
        inputs = dict(zip(secrets.asked, map(str, PAIRS[handle]), strict=True))
        for _ in range(1 + n % 2):
            status, body = await org.click(
                handle,
                form["action_id"],
                form["value"],
                message_id=message["id"],
                inputs=inputs | {"comment": COMMENTS[handle]},
            )
            assert status == 200, body
        secrets.order.append(handle)
    return secrets


def _who(ratings: list[tuple[int, str, str, int]], norms: tuple[str, ...]) -> dict[str, str]:
    """Sealed token -> person, known to the test because every person's ratings differ."""
    by_token: dict[str, dict[str, int]] = {}
    for _, token, norm, score in ratings:
        by_token.setdefault(token, {})[norm] = score
    return {
        token: next(h for h in EIGHT if dict(zip(norms, PAIRS[h], strict=True)) == scores)
        for token, scores in by_token.items()
    }


def _never_a_value(stored: str) -> None:
    assert '"selected": "' not in stored
    assert not [c for c in COMMENTS.values() if c in stored]


@pytest.mark.parametrize("sender", ["running", "stopped"])
async def test_nothing_in_the_database_links_a_person_to_a_rating_after_close(
    org: Org, sender: str
) -> None:
    secrets = await _answer_check(org)
    # While open, no stored message version holds a rating or a comment.
    _never_a_value(await stored_messages(org.app.db, [org.ids[h] for h in EIGHT]))
    closed = await close_check(org.app.services, secrets.collection_id, "person:cora")
    assert "8 of 8 answered" in closed
    if sender == "running":
        await org.app.sender.drain()
    db = org.app.db

    async with db.engine.connect() as connection:
        ratings = [
            tuple(r)
            for r in await connection.execute(
                text("SELECT id, respondent, norm_key, score FROM contract_rating ORDER BY id")
            )
        ]
        comments = [
            tuple(c)
            for c in await connection.execute(
                text("SELECT id, respondent, text FROM contract_comment ORDER BY id")
            )
        ]
        versions = (
            await connection.execute(
                text("SELECT max(version) FROM local_message WHERE ref = :r"),
                {"r": f"contract-check:{secrets.collection_id}"},
            )
        ).scalar()
    who = _who(ratings, secrets.asked)  # type: ignore[arg-type]
    assert sorted(who.values()) == sorted(EIGHT) and len(ratings) == 16
    assert sorted(c[2] for c in comments) == sorted(COMMENTS.values())
    # Tokens: fresh, not the HMAC ones, and a comment's never a rating's.
    assert not set(who) & set(secrets.tokens.values())
    assert not {c[1] for c in comments} & set(who)
    # Order: neither ids (nor, below, physical order) follow who answered first.
    assert [who[t] for t in first_seen([r[1] for r in ratings])] != secrets.order
    by_text = {words: h for h, words in COMMENTS.items()}
    assert [by_text[c[2]] for c in comments] != secrets.order
    # Nothing of the open check is left in a table, nor a copy of its message whose
    # version counted someone's clicks or whose buttons showed their choice.
    left = await count_rows(
        db, ("contract_check_key", "contract_open_rating", "contract_open_comment")
    )
    assert set(left.values()) == {0}
    assert versions in (None, 1)
    _never_a_value(await stored_messages(db, [org.ids[h] for h in EIGHT]))
    async with db.engine.connect() as connection:
        notices = (
            await connection.execute(
                text("SELECT count(*) FROM local_message WHERE ref LIKE 'notice:%'")
            )
        ).scalar()
    assert notices == 0  # no per-person "saved" notice in inbox order
    everyone = await stored_messages(db, None)
    live = {c: everyone.count(c) for c in COMMENTS.values()}  # the coach's results

    secret_strings = [secrets.key, *secrets.tokens.values()]
    await no_secret_in_files(db, secret_strings, list(COMMENTS.values()), live, sender == "stopped")
    if db.dialect == "sqlite":
        return
    await one_writer(
        db,
        "contract_rating",
        "contract_comment",
        "contract_check_invite",
        ("person", "contract_ack"),
    )
    by_ctid = await physical_order(db, "contract_rating")
    assert [who[t] for t in first_seen(by_ctid)] != secrets.order
