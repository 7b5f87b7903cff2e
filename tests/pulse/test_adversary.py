"""An attacker with the database's files (SQLite: the main file and its -wal) or
superuser SQL (PostgreSQL: live and dead tuples through pageinspect, xmin, physical
order, every page's raw bytes) after an anonymous round of 8 closed, with and without
a sender running: nothing may link a person to an answer or a comment (issue #13).

Kinds of link tried: the round key or any HMAC token it made; ids or physical order
following the order people answered; transaction ids shared by a person's rows and
answer rows; a comment's token equal to answers' tokens; any stored message version
(local chat, outbox) holding a chosen value or a comment; per-person versions,
notices and timestamps left by answering."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from handlers.pulse.close import close_team_round
from handlers.pulse.rounds import open_round
from storage.core.db import Database
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import ITEMS, Org
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

# Distinct answers per person (scores 1-7), and a distinct comment each.
SCORES = {h: [1 + (n + i * (n % 3 + 1)) % 7 for i in range(7)] for n, h in enumerate(EIGHT)}
COMMENTS = {
    h: f"Remark {n}: {'trust candour respect focus'.split()[n % 4]} {n * 7919}"
    for n, h in enumerate(EIGHT)
}


@pytest.fixture
async def org(any_db: Database, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Org]:
    async with org_on(any_db, tmp_path, clock) as running:
        yield running


async def _answer_round(org: Org) -> Secrets:
    opened = await open_round(org.app.services, "leadership")
    await org.app.sender.drain()
    secrets = Secrets(collection_id=opened.round_id)
    async with org.app.db.engine.connect() as connection:
        secrets.key = (
            await connection.execute(text("SELECT key FROM pulse_round_key"))
        ).scalar_one()
    for handle in EIGHT:
        digest = hmac.new(
            bytes.fromhex(secrets.key),
            f"{secrets.collection_id}:{org.ids[handle]}".encode(),
            hashlib.sha256,
        )
        secrets.tokens[handle] = digest.hexdigest()[:40]
    # Answering in a known order, through both paths: one click, then the form (twice
    # for some: a change and a resend).
    for n, handle in enumerate(reversed(EIGHT)):
        message = await org.pulse_message(handle)
        if n % 2:
            status, body = await org.click(
                handle,
                "pulse.answer",
                f"{secrets.collection_id}:{ITEMS[0]}:{8 - SCORES[handle][0]}",
            )
            assert status == 200, body
        status, body = await org.click(
            handle, "pulse.open", str(secrets.collection_id), message_id=message["id"]
        )
        assert status == 200 and "form" in body
        inputs = dict(zip(ITEMS, map(str, SCORES[handle]), strict=True))
        for _ in range(1 + n % 2):
            status, body = await org.click(
                handle,
                "pulse.submit",
                str(secrets.collection_id),
                message_id=message["id"],
                inputs=inputs | {"comment": COMMENTS[handle]},
            )
            assert status == 200, body
        secrets.order.append(handle)
    return secrets


async def _stored_messages(org: Org, invitees_only: bool = True) -> str:
    """Every stored message version (local chat, outbox): by default those to the
    people asked (the coach's results list the comments of a round, in aggregate)."""
    return await stored_messages(org.app.db, [org.ids[h] for h in EIGHT] if invitees_only else None)


def _never_a_value(stored: str) -> None:
    assert '"selected": "' not in stored and '"question"' not in stored
    for comment in COMMENTS.values():
        assert comment not in stored


async def _sealed(org: Org) -> tuple[list[tuple[int, str, str, int]], list[tuple[int, str, str]]]:
    async with org.app.db.engine.connect() as connection:
        answers = (
            await connection.execute(
                text("SELECT id, respondent, item_key, score FROM pulse_answer ORDER BY id")
            )
        ).all()
        comments = (
            await connection.execute(
                text("SELECT id, respondent, text FROM pulse_comment ORDER BY id")
            )
        ).all()
    return [tuple(a) for a in answers], [tuple(c) for c in comments]  # type: ignore[misc]


def _who(answers: list[tuple[int, str, str, int]]) -> dict[str, str]:
    """Sealed token -> person, known to the test because every person's answers differ."""
    by_token: dict[str, dict[str, int]] = {}
    for _, token, item, score in answers:
        by_token.setdefault(token, {})[item] = score
    return {
        token: next(h for h in EIGHT if dict(zip(ITEMS, SCORES[h], strict=True)) == scores)
        for token, scores in by_token.items()
    }


@pytest.mark.parametrize("sender", ["running", "stopped"])
async def test_nothing_in_the_database_links_a_person_to_an_answer_after_close(
    org: Org, sender: str
) -> None:
    secrets = await _answer_round(org)
    # While open, no stored message version holds a value or a comment.
    _never_a_value(await _stored_messages(org))
    await close_team_round(org.app.services, "leadership")
    if sender == "running":
        await org.app.sender.drain()

    answers, comments = await _sealed(org)
    who = _who([(i, t, k, s) for i, t, k, s in answers])
    assert sorted(who.values()) == sorted(EIGHT) and len(answers) == 56
    assert sorted(c[2] for c in comments) == sorted(COMMENTS.values())
    # Tokens: fresh, not the HMAC ones, and a comment's never an answer's.
    assert not set(who) & set(secrets.tokens.values())
    assert not {c[1] for c in comments} & set(who)
    # Order: neither ids (nor, below, physical order) follow who answered first.
    assert [who[t] for t in first_seen([a[1] for a in answers])] != secrets.order
    by_text = {text_: h for h, text_ in COMMENTS.items()}
    assert [by_text[c[2]] for c in comments] != secrets.order
    # Nothing of the open round is left in a table.
    left = await count_rows(
        org.app.db, ("pulse_round_key", "pulse_open_answer", "pulse_open_comment")
    )
    assert set(left.values()) == {0}
    async with org.app.db.engine.connect() as connection:
        notices = (
            await connection.execute(
                text("SELECT count(*) FROM local_message WHERE ref LIKE 'notice:%'")
            )
        ).scalar()
        versions = (
            await connection.execute(
                text("SELECT max(version) FROM local_message WHERE ref = :r"),
                {"r": f"pulse:{secrets.collection_id}"},
            )
        ).scalar()
    assert notices == 0  # no per-person "saved" notice in inbox order
    assert versions in (None, 1)  # no per-person count of saves
    _never_a_value(await _stored_messages(org))
    everyone = await _stored_messages(org, invitees_only=False)
    live = {c: everyone.count(c) for c in COMMENTS.values()}  # the coach's results

    stopped = sender == "stopped"
    secret_strings = [secrets.key, *secrets.tokens.values()]
    await no_secret_in_files(org.app.db, secret_strings, list(COMMENTS.values()), live, stopped)
    if org.app.db.dialect == "sqlite":
        return
    await one_writer(
        org.app.db, "pulse_answer", "pulse_comment", "pulse_invite", ("pulse_participant", "person")
    )
    # Physical order (ctid) of the answers does not follow who answered first.
    by_ctid = await physical_order(org.app.db, "pulse_answer")
    assert [who[t] for t in first_seen(by_ctid)] != secrets.order
