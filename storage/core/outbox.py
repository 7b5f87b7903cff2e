"""The durable outbox: write first, send later, exactly once per dedupe key."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Dialect, TypeDecorator, Update, bindparam, case, delete, or_, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core.dialects import insert_for
from storage.core.lane_models import LaneLease
from storage.core.models import OutboxMessage, OutboxStatus, Person, Workspace
from storage.core.types import utcnow


@dataclass(frozen=True)
class Outgoing:
    """One message to write to the outbox."""

    dedupe_key: str
    person_id: int
    kind: str
    ref: str
    payload: dict[str, Any]
    not_before: datetime
    expires_at: datetime | None = None


class _EncodedJSON(TypeDecorator[str]):
    """A JSON column's value, already encoded: the text goes to the column as it is."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


async def enqueue_many(session: AsyncSession, messages: Sequence[Outgoing]) -> int:
    """Add the messages whose dedupe key is new, in one statement; returns how many.
    A fan-out to thousands is one round trip, and a retried fan-out adds nothing. A
    payload shared by many messages (one rendering for a whole team) is encoded once."""
    if not messages:
        return 0
    created = utcnow()
    bind = session.get_bind()
    encode = getattr(bind.dialect, "_json_serializer", None) or json.dumps
    encoded: dict[int, str] = {}  # by id(payload), alive as long as `messages`
    rows = []
    for m in messages:
        if (text := encoded.get(id(m.payload))) is None:
            text = encoded[id(m.payload)] = encode(m.payload)
        row = {**vars(m), "status": OutboxStatus.PENDING.value, "attempts": 0}
        row.update(created_at=created, payload_json=text)
        del row["payload"]
        rows.append(row)
    insert = insert_for(bind.dialect.name)
    table = SQLModel.metadata.tables["outbox_message"]
    statement = (
        insert(table)
        .values(payload=bindparam("payload_json", type_=_EncodedJSON()))
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )
    connection = await session.connection()
    # RETURNING counts what was added on every driver (asyncpg reports no rowcount).
    return len((await connection.execute(statement, rows)).all())


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    person_id: int,
    kind: str,
    ref: str,
    payload: dict[str, Any],
    not_before: datetime,
    expires_at: datetime | None = None,
) -> bool:
    """Add a message unless one with this dedupe key exists. True when added."""
    message = Outgoing(dedupe_key, person_id, kind, ref, payload, not_before, expires_at)
    return await enqueue_many(session, [message]) == 1


def _claimable(now: datetime) -> list[Any]:
    """Pending, due, and not claimed by a live sender."""
    return [
        OutboxMessage.status == OutboxStatus.PENDING,
        col(OutboxMessage.not_before) <= now,
        or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
    ]


async def due_lanes(
    session: AsyncSession, now: datetime, skip_channels: Collection[str] = ()
) -> list[tuple[int, str, bool]]:
    """The sending lanes with due messages, oldest waiting first, each as its workspace,
    that workspace's channel and whether any of its messages is claimable (False: every
    due message is claimed, the lane is being sent). A lane is one workspace (so one
    channel, and one Slack team's pacing): the recipient's. Lanes of `skip_channels`
    are left out."""
    oldest = func.min(OutboxMessage.not_before)
    unclaimed = or_(
        col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now
    )
    claimable = func.max(case((unclaimed, 1), else_=0))
    query = (
        select(Person.workspace_id, Workspace.channel, claimable, oldest)
        .join(Person, col(Person.id) == OutboxMessage.person_id)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, col(OutboxMessage.not_before) <= now)
        .group_by(col(Person.workspace_id), col(Workspace.channel))
        .order_by(oldest, col(Person.workspace_id))
    )
    if skip_channels:
        query = query.where(col(Workspace.channel).not_in(list(skip_channels)))
    rows = (await session.exec(query)).all()
    return [(lane, channel, bool(free)) for lane, channel, free, _ in rows]


async def claim_due(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease: timedelta,
    workspace_id: int | None = None,
    retries: bool | None = None,
    fence: tuple[str, int] | None = None,
) -> list[OutboxMessage]:
    """Claim due pending rows for this process (of one lane: the recipients of one
    workspace, when given). On PostgreSQL other senders skip the locked rows; a claim
    lapses after `lease` so a crashed sender's rows return. `retries`: only rows tried
    before and failed (True) or only rows never failed (False). `fence`: (node, token)
    of the lane's lease (lanes.py): nothing is claimed unless that lease still holds,
    so a sender whose lease ran out cannot claim after another took the lane."""
    query = select(OutboxMessage).where(*_claimable(now))
    if workspace_id is not None:
        # A subquery, not a join: FOR UPDATE must lock outbox rows only, never people.
        people = select(Person.id).where(Person.workspace_id == workspace_id)
        query = query.where(col(OutboxMessage.person_id).in_(people))
        if fence is not None:
            held = select(LaneLease.workspace_id).where(
                LaneLease.workspace_id == workspace_id,
                LaneLease.holder == fence[0],
                LaneLease.token == fence[1],
                col(LaneLease.expires_at) > func.clock_timestamp(),
            )
            query = query.where(held.exists())
    if retries is not None:
        failed = col(OutboxMessage.attempts) > 0
        query = query.where(failed if retries else ~failed)
    query = (
        query.order_by(col(OutboxMessage.not_before), col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.claimed_until = now + lease
        session.add(row)
    return rows


async def release(
    session: AsyncSession, message_ids: Sequence[int], claimed_until: datetime
) -> int:
    """Hand back claimed rows not sent after all, for any sender to claim at once. Only
    our own claim is undone: a row whose lease lapsed and was claimed again is left alone."""
    if not message_ids:
        return 0
    statement = (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(list(message_ids)),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.claimed_until) == claimed_until,
        )
        .values(claimed_until=None)
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def mark_sent(
    session: AsyncSession,
    message_id: int,
    channel: str,
    external_ref: dict[str, Any],
    now: datetime,
) -> None:
    await _set(
        session,
        message_id,
        status=OutboxStatus.SENT.value,
        channel=channel,
        external_ref=external_ref,
        sent_at=now,
        claimed_until=None,
        attempts=OutboxMessage.attempts + 1,
    )


async def mark_retry(
    session: AsyncSession,
    message_id: int,
    error: str,
    next_attempt: datetime,
    count_attempt: bool = True,
) -> None:
    """Try again at `next_attempt`. A rate-limited try is no failed attempt
    (`count_attempt=False`): it must not bring the message nearer to giving up."""
    values: dict[str, Any] = {}
    if count_attempt:
        values["attempts"] = OutboxMessage.attempts + 1
    await _set(
        session,
        message_id,
        last_error=error[:500],
        not_before=next_attempt,
        claimed_until=None,
        **values,
    )


async def mark_final(session: AsyncSession, message_id: int, status: str, reason: str) -> None:
    await _set(session, message_id, status=status, last_error=reason[:500], claimed_until=None)


async def _set(session: AsyncSession, message_id: int, **values: Any) -> None:
    statement = update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
    await session.exec(statement)


async def cancel_pending(session: AsyncSession, key_prefix: str, reason: str) -> int:
    """Cancel every pending message whose dedupe key starts with the prefix:
    its moment has passed (a round closed, an answer came). Returns how many."""
    low, high = _key_range(key_prefix)
    params = {"low": low, "reason": reason[:500]}
    if high is not None:
        params["high"] = high
    result = await session.exec(_CANCEL_RANGE[high is not None], params=params)
    return int(result.rowcount or 0)


def _key_range(prefix: str) -> tuple[str, str | None]:
    """The keys starting with `prefix` as low <= key < high, under bytewise (code point)
    order; no high when no string above the prefix exists (the empty prefix). Exact for
    any prefix: no LIKE, so no wildcards to escape."""
    stem = prefix.rstrip(chr(0x10FFFF))
    if not stem:
        return prefix, None
    bumped = ord(stem[-1]) + 1
    if 0xD800 <= bumped <= 0xDFFF:  # surrogates cannot be stored: the next is U+E000
        bumped = 0xE000
    return prefix, stem[:-1] + chr(bumped)


def _cancel_range(bounded: bool) -> Update:
    """Cancel the pending rows of one key range (bound as :low and, when bounded,
    :high) for a :reason. The range sits in a subquery so that SQLite searches the
    unique index on dedupe_key; with both terms in one WHERE it picks the status index
    and reads every pending row."""
    table = SQLModel.metadata.tables["outbox_message"]
    keys = select(table.c.id).where(table.c.dedupe_key >= bindparam("low"))
    if bounded:
        keys = keys.where(table.c.dedupe_key < bindparam("high"))
    return (
        update(table)
        .where(table.c.id.in_(keys), table.c.status == OutboxStatus.PENDING.value)
        .values(status=OutboxStatus.CANCELLED.value, last_error=bindparam("reason"))
    )


# Built once: cancelling runs with every batch of pulse answers.
_CANCEL_RANGE = {bounded: _cancel_range(bounded) for bounded in (True, False)}


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Cancel pending messages whose expiry has passed: never send late."""
    statement = (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.expires_at).is_not(None),
            col(OutboxMessage.expires_at) <= now,
        )
        .values(status=OutboxStatus.CANCELLED.value, last_error="expired before it could be sent")
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def due_backlog(
    session: AsyncSession, now: datetime
) -> tuple[dict[str, int], datetime | None]:
    """Pending messages due by now, by their recipient's workspace channel, and the
    oldest one's due time (for /metrics: one grouped read on the pending index)."""
    query = (
        select(Workspace.channel, func.count(), func.min(OutboxMessage.not_before))
        .join(Person, col(Person.id) == OutboxMessage.person_id)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, col(OutboxMessage.not_before) <= now)
        .group_by(col(Workspace.channel))
    )
    rows = (await session.exec(query)).all()
    oldest = min((first for _, _, first in rows if first is not None), default=None)
    return {channel: int(n) for channel, n, _ in rows}, oldest


async def counts(session: AsyncSession) -> dict[str, int]:
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {status: int(n) for status, n in (await session.exec(query)).all()}


async def purge_finished(session: AsyncSession, before: datetime) -> int:
    """Delete sent, cancelled, missed and failed rows created before `before`."""
    statement = delete(OutboxMessage).where(
        col(OutboxMessage.status) != OutboxStatus.PENDING, col(OutboxMessage.created_at) < before
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)


def cancel_prefixes(connection: Connection, prefixes: Iterable[str], reason: str) -> None:
    """`cancel_pending` for many prefixes in one executemany (the answer desk's group
    commit runs it), each prefix a key range that the unique index on dedupe_key
    answers without scanning the outbox. An empty prefix is skipped: in a batch it is
    a slip, never a wish to cancel everything."""
    why = reason[:500]
    ranges = [_key_range(prefix) for prefix in sorted(set(prefixes)) if prefix]
    bounded = [
        {"low": low, "high": high, "reason": why} for low, high in ranges if high is not None
    ]
    if bounded:
        connection.execute(_CANCEL_RANGE[True], bounded)
    for low, high in ranges:
        if high is None:  # a prefix of U+10FFFF only: nothing sorts above it
            connection.execute(_CANCEL_RANGE[False], {"low": low, "reason": why})
