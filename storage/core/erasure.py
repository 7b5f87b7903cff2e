"""Erasure of one person's personal data (`pulsecoach forget`): which rows hold it, how
many, and removing them in one transaction.

Anonymous answers stay: nothing links them to anyone. Confidential-mode answers and
comments (stable per-person tokens) go, and so do the person's answers held apart in
rounds and contract checks still open. References that only say who did something (a commitment's
partner, who wrote a contract version) are cleared, not the rows they sit in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import anonymity

# (what, table, condition on :p the person id, :t their confidential token): deleted in
# this order (children before parents).
_DELETED: tuple[tuple[str, str, str], ...] = (
    (
        "commitment check-ins and reflections",
        "commitment_checkin",
        "commitment_id IN (SELECT id FROM commitment WHERE person_id = :p)",
    ),
    ("commitments", "commitment", "person_id = :p"),
    ("contract acknowledgements", "contract_ack", "person_id = :p"),
    ("contract check invites", "contract_check_invite", "person_id = :p"),
    ("confidential contract ratings", "contract_rating", "respondent = :t"),
    ("confidential contract comments", "contract_comment", "respondent = :t"),
    ("pulse invites", "pulse_invite", "person_id = :p"),
    ("pulse participation", "pulse_participant", "person_id = :p"),
    ("confidential pulse answers", "pulse_answer", "respondent = :t"),
    ("confidential pulse comments", "pulse_comment", "respondent = :t"),
    ("answers in open rounds", "pulse_open_answer", "respondent IN :open"),
    ("comments in open rounds", "pulse_open_comment", "respondent IN :open"),
    (
        "ratings in open contract checks",
        "contract_open_rating",
        "respondent IN :open OR respondent = :t",
    ),
    (
        "comments in open contract checks",
        "contract_open_comment",
        "respondent IN :open OR respondent = :t",
    ),
    ("messages to them", "outbox_message", "person_id = :p"),
    ("chat history", "local_message", "person_id = :p"),
    ("Slack message references", "slack_message", "person_id = :p"),
    ("digests sent to them", "digest", "coach_id = :p"),
    ("chat addresses", "chat_address", "person_id = :p"),
    ("team memberships", "membership", "person_id = :p"),
    ("profile", "person", "id = :p"),
)
_CLEARED: tuple[tuple[str, str], ...] = (
    ("commitment", "partner_id"),
    ("commitment", "created_by"),
    ("contract_version", "created_by"),
)
TABLES = tuple(sorted({table for _, table, _ in _DELETED}))


@dataclass(frozen=True)
class Erasure:
    person_id: int
    counts: dict[str, int]  # what -> rows


async def _params(session: AsyncSession, person_id: int) -> dict[str, object]:
    """The person id, confidential token, and their HMAC tokens in rounds and checks
    still open (the key exists until the close, so those answers still link to them)."""
    keys = await session.exec(  # type: ignore[call-overload]
        text(
            "SELECT k.round_id, k.key FROM pulse_round_key k "
            "JOIN pulse_invite i ON i.round_id = k.round_id WHERE i.person_id = :p"
        ),
        params={"p": person_id},
    )
    open_tokens = [anonymity.anonymous_token(key, rid, person_id) for rid, key in keys.all()]
    keys = await session.exec(  # type: ignore[call-overload]
        text(
            "SELECT k.check_id, k.key FROM contract_check_key k "
            "JOIN contract_check_invite i ON i.check_id = k.check_id WHERE i.person_id = :p"
        ),
        params={"p": person_id},
    )
    open_tokens += [anonymity.anonymous_token(key, cid, person_id) for cid, key in keys.all()]
    return {
        "p": person_id,
        "t": anonymity.confidential_token(person_id),
        "open": open_tokens or [""],  # an empty IN list: no row
    }


async def preview(session: AsyncSession, person_id: int) -> Erasure:
    params = await _params(session, person_id)
    counts: dict[str, int] = {}
    for what, table, condition in _DELETED:
        statement = text(f"SELECT count(*) FROM {table} WHERE {condition}")
        if ":open" in condition:
            statement = statement.bindparams(bindparam("open", expanding=True))
        found = (await session.exec(statement, params=params)).one()[0]  # type: ignore[call-overload]
        counts[what] = counts.get(what, 0) + int(found)
    return Erasure(person_id, counts)


async def erase(session: AsyncSession, person_id: int) -> Erasure:
    """Delete it all in the caller's transaction; what was removed, counted."""
    done = await preview(session, person_id)
    params = await _params(session, person_id)
    for table, column in _CLEARED:
        await session.exec(  # type: ignore[call-overload]
            text(f"UPDATE {table} SET {column} = NULL WHERE {column} = :p"), params={"p": person_id}
        )
    for _, table, condition in _DELETED:
        statement = text(f"DELETE FROM {table} WHERE {condition}")
        if ":open" in condition:
            statement = statement.bindparams(bindparam("open", expanding=True))
        await session.exec(statement, params=params)  # type: ignore[call-overload]
    return done
