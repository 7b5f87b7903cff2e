"""Queries for team contracts: versions, acknowledgements, and anonymous contract checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Integer, String, cast, delete, exists, func, literal, null, union_all
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.contracts import seal
from storage.contracts.models import (
    ContractAck,
    ContractCheck,
    ContractCheckInvite,
    ContractCheckKey,
    ContractCheckSummary,
    ContractComment,
    ContractOpenComment,
    ContractOpenRating,
    ContractRating,
    ContractVersion,
    TeamContract,
)
from storage.core import anonymity
from storage.core.dialects import insert_for
from storage.core.models import Team, Workspace

ANONYMOUS = "anonymous"


# --------------------------------------------------------------------------- contracts


async def for_team(session: AsyncSession, team_id: int) -> TeamContract | None:
    return (await session.exec(select(TeamContract).where(TeamContract.team_id == team_id))).first()


async def get(session: AsyncSession, contract_id: int) -> TeamContract | None:
    return await session.get(TeamContract, contract_id)


async def ensure(session: AsyncSession, team_id: int) -> TeamContract:
    found = await for_team(session, team_id)
    if found is None:
        found = TeamContract(team_id=team_id)
        session.add(found)
        await session.flush()
    return found


async def current_version(session: AsyncSession, contract: TeamContract) -> ContractVersion | None:
    query = select(ContractVersion).where(
        ContractVersion.contract_id == contract.id,
        ContractVersion.version == contract.current_version,
    )
    return (await session.exec(query)).first()


async def version(session: AsyncSession, version_id: int) -> ContractVersion | None:
    return await session.get(ContractVersion, version_id)


async def add_version(
    session: AsyncSession,
    contract: TeamContract,
    norms: list[dict[str, str]],
    created_by: int | None,
) -> ContractVersion:
    contract.current_version += 1
    row = ContractVersion(
        contract_id=contract.id or 0,
        version=contract.current_version,
        norms=norms,
        created_by=created_by,
    )
    session.add_all([contract, row])
    await session.flush()
    return row


async def acknowledge(
    session: AsyncSession, version_id: int, person_id: int, now: datetime
) -> bool:
    """Record an acknowledgement once (double clicks store one row). True when new."""
    table = SQLModel.metadata.tables["contract_ack"]
    statement = (
        insert_for(session.get_bind().dialect.name)(table)
        .values(version_id=version_id, person_id=person_id, acked_at=now)
        .on_conflict_do_nothing(index_elements=["version_id", "person_id"])
    )
    return bool((await session.exec(statement)).rowcount)


async def acknowledged(session: AsyncSession, version_id: int) -> dict[int, datetime]:
    query = select(ContractAck.person_id, ContractAck.acked_at).where(
        ContractAck.version_id == version_id
    )
    return {pid: at for pid, at in (await session.exec(query)).all()}


# --------------------------------------------------------------------------- checks


async def create_check(
    session: AsyncSession, check: ContractCheck, invitee_ids: Sequence[int]
) -> ContractCheck:
    """The check, its secret key (anonymous mode) and its invites, in one go."""
    session.add(check)
    await session.flush()
    if check.privacy == ANONYMOUS:
        session.add(ContractCheckKey(check_id=check.id or 0, key=anonymity.new_key()))
    for person_id in invitee_ids:
        session.add(ContractCheckInvite(check_id=check.id or 0, person_id=person_id))
    await session.flush()
    return check


async def check(session: AsyncSession, check_id: int) -> ContractCheck | None:
    return await session.get(ContractCheck, check_id)


async def open_check(session: AsyncSession, contract_id: int) -> ContractCheck | None:
    query = select(ContractCheck).where(
        ContractCheck.contract_id == contract_id, ContractCheck.status == "open"
    )
    return (await session.exec(query)).first()


async def check_for_occurrence(
    session: AsyncSession, contract_id: int, occurrence: str
) -> ContractCheck | None:
    query = select(ContractCheck).where(
        ContractCheck.contract_id == contract_id, ContractCheck.occurrence == occurrence
    )
    return (await session.exec(query)).first()


async def next_number(session: AsyncSession, contract_id: int) -> int:
    query = select(func.max(ContractCheck.number)).where(ContractCheck.contract_id == contract_id)
    return int((await session.exec(query)).one() or 0) + 1


async def respondent_token(
    session: AsyncSession, check: ContractCheck, person_id: int
) -> str | None:
    """Anonymous: HMAC with the check's key (gone at close). Confidential: per person."""
    if check.privacy != ANONYMOUS:
        return anonymity.confidential_token(person_id)
    key = await session.get(ContractCheckKey, check.id)
    return None if key is None else anonymity.anonymous_token(key.key, check.id or 0, person_id)


async def invite_for(
    session: AsyncSession, check_id: int, person_id: int
) -> ContractCheckInvite | None:
    query = select(ContractCheckInvite).where(
        ContractCheckInvite.check_id == check_id, ContractCheckInvite.person_id == person_id
    )
    return (await session.exec(query)).first()


async def invites(session: AsyncSession, check_id: int) -> list[ContractCheckInvite]:
    query = select(ContractCheckInvite).where(ContractCheckInvite.check_id == check_id)
    return list((await session.exec(query.order_by(col(ContractCheckInvite.person_id)))).all())


async def _store_if_open(
    session: AsyncSession, table_name: str, values: dict[str, object], keys: list[str]
) -> bool:
    """Insert or change one row of an open check's held-apart answers, only while the
    check is open; whether it was stored. On PostgreSQL the check is first held FOR
    SHARE until this transaction ends: the close's first statement waits for it, and a
    write after the close finds the check closed (storage/contracts/seal.py). On SQLite
    the reads before were outside any transaction: the one INSERT ... SELECT ... WHERE
    the check is open begins it, waiting for a close that holds the write lock, and
    then reads the check afresh."""
    check_id = values["check_id"]
    held = select(ContractCheck.id).where(
        ContractCheck.id == check_id, ContractCheck.status == "open"
    )
    if (await session.exec(held.with_for_update(read=True))).first() is None:
        return False
    table = SQLModel.metadata.tables[table_name]
    still_open = exists().where(
        col(ContractCheck.id) == check_id, col(ContractCheck.status) == "open"
    )
    rows = sa_select(*(literal(v) for v in values.values())).where(still_open)
    statement = insert_for(session.get_bind().dialect.name)(table).from_select(list(values), rows)
    changed = {k: v for k, v in values.items() if k not in keys}
    result = await session.exec(statement.on_conflict_do_update(index_elements=keys, set_=changed))
    return bool(result.rowcount)


async def save_rating(
    session: AsyncSession, check_id: int, respondent: str, norm_key: str, score: int
) -> bool:
    """Insert or change one rating of an open check, held apart until the close; a
    double click or a retry stores one row. A check closed meanwhile stores nothing:
    False."""
    values = {"check_id": check_id, "respondent": respondent, "norm_key": norm_key}
    return await _store_if_open(
        session, "contract_open_rating", values | {"score": score}, list(values)
    )


async def ratings_of(session: AsyncSession, check_id: int, respondent: str) -> dict[str, int]:
    """An open check's ratings by this respondent (a sealed check's tokens are no one's)."""
    query = select(ContractOpenRating.norm_key, ContractOpenRating.score).where(
        ContractOpenRating.check_id == check_id, ContractOpenRating.respondent == respondent
    )
    return {key: score for key, score in (await session.exec(query)).all()}


async def save_comment(session: AsyncSession, check_id: int, respondent: str, text: str) -> bool:
    """Insert or change the respondent's comment on an open check, held apart until the
    close; a check closed meanwhile stores nothing: False."""
    values = {"check_id": check_id, "respondent": respondent}
    return await _store_if_open(
        session, "contract_open_comment", values | {"text": text}, list(values)
    )


async def withdraw_comment(session: AsyncSession, check_id: int, respondent: str) -> None:
    """The respondent emptied the comment box of an open check: the comment is gone."""
    await session.exec(
        delete(ContractOpenComment).where(
            col(ContractOpenComment.check_id) == check_id,
            col(ContractOpenComment.respondent) == respondent,
        )
    )


async def comment_of(session: AsyncSession, check_id: int, respondent: str) -> str | None:
    query = select(ContractOpenComment.text).where(
        ContractOpenComment.check_id == check_id, ContractOpenComment.respondent == respondent
    )
    return (await session.exec(query)).first()


async def close_check(session: AsyncSession, row: ContractCheck, now: datetime) -> None:
    """Close the check, sealing its ratings and comments and destroying its key: from
    now on no rating links to a person. The caller scrubs after the commit
    (`seal.SPEC.rewritten`, `seal.SPEC.vacuumed`)."""
    await seal.seal(session, row, now)


async def checks_due_to_close(
    session: AsyncSession, contract_id: int, now: datetime
) -> list[ContractCheck]:
    query = select(ContractCheck).where(
        ContractCheck.contract_id == contract_id,
        ContractCheck.status == "open",
        col(ContractCheck.closes_at) <= now,
    )
    return list((await session.exec(query)).all())


async def closed_checks_with_versions(
    session: AsyncSession, team_id: int, since: datetime | None = None, limit: int = 24
) -> list[tuple[ContractCheck, ContractVersion | None, int]]:
    """The latest closed checks of a team (closed since `since`), oldest first, each with
    the contract version it asked about and its number of invites: one query."""
    invited = (
        select(func.count())
        .where(col(ContractCheckInvite.check_id) == ContractCheck.id)
        .correlate(ContractCheck)
        .scalar_subquery()
    )
    query = (
        select(ContractCheck, ContractVersion, invited)
        .outerjoin(ContractVersion, col(ContractVersion.id) == ContractCheck.version_id)
        .where(ContractCheck.team_id == team_id, ContractCheck.status == "closed")
    )
    if since is not None:
        query = query.where(col(ContractCheck.closed_at) >= since)
    query = query.order_by(col(ContractCheck.number).desc()).limit(limit)
    rows = (await session.exec(query)).all()
    return [(check, version, int(n)) for check, version, n in reversed(rows)]


async def answers(
    session: AsyncSession, check_ids: Sequence[int]
) -> tuple[dict[int, list[tuple[str, str, int]]], dict[int, list[str]]]:
    """Ratings (check id -> (respondent, norm key, score)) and comments (check id ->
    texts, in text order, never arrival order) of many checks in one query: a UNION ALL
    whose comment rows carry no respondent, so nothing links a comment to ratings."""
    ratings: dict[int, list[tuple[str, str, int]]] = {cid: [] for cid in check_ids}
    comments: dict[int, list[str]] = {cid: [] for cid in check_ids}
    if not check_ids:
        return ratings, comments
    ids = list(check_ids)
    both = union_all(
        sa_select(
            col(ContractRating.check_id),
            col(ContractRating.respondent),
            col(ContractRating.norm_key),
            col(ContractRating.score),
            cast(null(), String).label("text"),
        ).where(col(ContractRating.check_id).in_(ids)),
        sa_select(
            col(ContractComment.check_id),
            cast(null(), String),
            cast(null(), String),
            cast(null(), Integer),
            col(ContractComment.text),
        ).where(col(ContractComment.check_id).in_(ids)),
    ).subquery()
    query = select(*both.c).order_by(both.c.text)
    for check_id, respondent, norm_key, score, text in (await session.exec(query)).all():
        if text is None:
            ratings[check_id].append((respondent, norm_key, score))
        else:
            comments[check_id].append(text)
    return ratings, comments


async def kept_summaries(
    session: AsyncSession, check_ids: Sequence[int]
) -> dict[int, dict[str, object]]:
    """check id -> the figures kept when its ratings were purged (retention)."""
    if not check_ids:
        return {}
    query = select(ContractCheckSummary).where(
        col(ContractCheckSummary.check_id).in_(list(check_ids))
    )
    return {row.check_id: row.summary for row in (await session.exec(query)).all()}


async def all_contracts(session: AsyncSession) -> list[tuple[TeamContract, Team, Workspace]]:
    """Every contract with its team and workspace, by workspace key then team key."""
    query = (
        select(TeamContract, Team, Workspace)
        .join(Team, col(Team.id) == TeamContract.team_id)
        .join(Workspace, col(Workspace.id) == Team.workspace_id)
        .order_by(col(Workspace.key), col(Team.key))
    )
    return [(c, t, w) for c, t, w in (await session.exec(query)).all()]
