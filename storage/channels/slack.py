"""Queries behind the Slack channel: installations, OAuth states, event ids, message
locations, and the people and addresses of Slack workspaces. Secrets arrive here
already encrypted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.channels.slack_models import (
    SlackBot,
    SlackEvent,
    SlackInstallation,
    SlackMessage,
    SlackOAuthState,
)
from storage.core.dialects import insert_for
from storage.core.models import Channel, ChatAddress, Person, Workspace
from storage.core.types import utcnow

# ------------------------------------------------------------------ installations


async def upsert_installation(session: AsyncSession, row: SlackInstallation) -> None:
    query = select(SlackInstallation).where(
        SlackInstallation.client_id == row.client_id,
        SlackInstallation.enterprise_id == row.enterprise_id,
        SlackInstallation.team_id == row.team_id,
        SlackInstallation.user_id == row.user_id,
    )
    existing = (await session.exec(query)).first()
    if existing is not None:
        for name in ("is_enterprise_install", "details", "secrets", "installed_at"):
            setattr(existing, name, getattr(row, name))
        row = existing
    session.add(row)


async def upsert_bot(session: AsyncSession, row: SlackBot) -> None:
    query = select(SlackBot).where(
        SlackBot.client_id == row.client_id,
        SlackBot.enterprise_id == row.enterprise_id,
        SlackBot.team_id == row.team_id,
    )
    existing = (await session.exec(query)).first()
    if existing is not None:
        for name in ("is_enterprise_install", "details", "secrets", "installed_at"):
            setattr(existing, name, getattr(row, name))
        row = existing
    session.add(row)


async def find_installation(
    session: AsyncSession, client_id: str, enterprise_id: str, team_id: str, user_id: str | None
) -> SlackInstallation | None:
    """The user's installation, or (no user) the workspace's latest one."""
    query = select(SlackInstallation).where(
        SlackInstallation.client_id == client_id,
        SlackInstallation.enterprise_id == enterprise_id,
        SlackInstallation.team_id == team_id,
    )
    if user_id is not None:
        query = query.where(SlackInstallation.user_id == user_id)
    query = query.order_by(
        col(SlackInstallation.installed_at).desc(), col(SlackInstallation.id).desc()
    )
    return (await session.exec(query)).first()


async def find_bot(
    session: AsyncSession, client_id: str, enterprise_id: str, team_id: str
) -> SlackBot | None:
    query = select(SlackBot).where(
        SlackBot.client_id == client_id,
        SlackBot.enterprise_id == enterprise_id,
        SlackBot.team_id == team_id,
    )
    return (await session.exec(query)).first()


async def bot_for_team(session: AsyncSession, client_id: str, team_id: str) -> SlackBot | None:
    """The workspace's bot, whichever org (if any) it belongs to."""
    query = (
        select(SlackBot)
        .where(SlackBot.client_id == client_id, SlackBot.team_id == team_id)
        .order_by(col(SlackBot.installed_at).desc())
    )
    return (await session.exec(query)).first()


async def delete_installations(
    session: AsyncSession, client_id: str, enterprise_id: str, team_id: str, user_id: str | None
) -> int:
    statement = delete(SlackInstallation).where(
        col(SlackInstallation.client_id) == client_id,
        col(SlackInstallation.enterprise_id) == enterprise_id,
        col(SlackInstallation.team_id) == team_id,
    )
    if user_id is not None:
        statement = statement.where(col(SlackInstallation.user_id) == user_id)
    return int((await session.exec(statement)).rowcount or 0)


async def delete_bot(
    session: AsyncSession, client_id: str, enterprise_id: str, team_id: str
) -> int:
    statement = delete(SlackBot).where(
        col(SlackBot.client_id) == client_id,
        col(SlackBot.enterprise_id) == enterprise_id,
        col(SlackBot.team_id) == team_id,
    )
    return int((await session.exec(statement)).rowcount or 0)


async def all_sealed(session: AsyncSession) -> list[SlackInstallation | SlackBot]:
    """Every row holding ciphertext, for re-encryption under the newest key."""
    rows: list[SlackInstallation | SlackBot] = list(
        (await session.exec(select(SlackInstallation))).all()
    )
    rows += list((await session.exec(select(SlackBot))).all())
    return rows


# ------------------------------------------------------------------ OAuth state, events


async def add_state(session: AsyncSession, state: str, expires_at: datetime) -> None:
    session.add(SlackOAuthState(state=state, expires_at=expires_at))


async def consume_state(session: AsyncSession, state: str, now: datetime) -> bool:
    """True once for a live state; it is gone afterwards (and expired ones with it)."""
    await session.exec(delete(SlackOAuthState).where(col(SlackOAuthState.expires_at) <= now))
    result = await session.exec(delete(SlackOAuthState).where(col(SlackOAuthState.state) == state))
    return bool(result.rowcount)


async def first_sighting(session: AsyncSession, event_id: str, now: datetime) -> bool:
    """Record an event id; False when it was seen before (a retry)."""
    insert = insert_for(session.get_bind().dialect.name)
    table = SQLModel.metadata.tables["slack_event"]
    statement = (
        insert(table)
        .values(event_id=event_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    return bool((await session.exec(statement)).rowcount)


async def purge_events(session: AsyncSession, before: datetime) -> int:
    statement = delete(SlackEvent).where(col(SlackEvent.received_at) < before)
    return int((await session.exec(statement)).rowcount or 0)


# ------------------------------------------------------------------ message locations


async def message_at(session: AsyncSession, person_id: int, ref: str) -> SlackMessage | None:
    query = select(SlackMessage).where(SlackMessage.person_id == person_id, SlackMessage.ref == ref)
    return (await session.exec(query)).first()


async def begin_post(session: AsyncSession, person_id: int, ref: str, now: datetime) -> None:
    """Marked under way before posting: its outcome lost (a timeout), the next try looks."""
    await _locate(session, person_id, ref, {"ts": None, "attempted_at": now, "updated_at": now})


async def record_post(
    session: AsyncSession, person_id: int, ref: str, channel: str, ts: str
) -> None:
    done = {"channel": channel, "ts": ts, "attempted_at": None, "updated_at": utcnow()}
    await _locate(session, person_id, ref, done)


async def _locate(session: AsyncSession, person_id: int, ref: str, values: dict[str, Any]) -> None:
    """An upsert: read then inserted, two posts with one ref at once (two `help` DMs from
    one person) would both insert, and one would break the unique constraint."""
    insert = insert_for(session.get_bind().dialect.name)(SQLModel.metadata.tables["slack_message"])
    upsert = insert.values(person_id=person_id, ref=ref, **values).on_conflict_do_update
    await session.exec(upsert(index_elements=["person_id", "ref"], set_=values))


async def forget_post(session: AsyncSession, person_id: int, ref: str) -> None:
    """The post certainly did not happen (refused, rate limited): nothing to look for."""
    await session.exec(
        delete(SlackMessage).where(
            col(SlackMessage.person_id) == person_id,
            col(SlackMessage.ref) == ref,
            col(SlackMessage.ts).is_(None),
        )
    )


async def forget_location(session: AsyncSession, person_id: int, ref: str) -> None:
    """The message was deleted in Slack: the next one with this ref is posted anew."""
    await session.exec(
        delete(SlackMessage).where(
            col(SlackMessage.person_id) == person_id, col(SlackMessage.ref) == ref
        )
    )


async def dm_channel(session: AsyncSession, person_id: int) -> str | None:
    """The id of the bot's DM with this person, if any message of ours told us."""
    query = (
        select(SlackMessage.channel)
        .where(SlackMessage.person_id == person_id, col(SlackMessage.channel).is_not(None))
        .limit(1)
    )
    return (await session.exec(query)).first()


# ------------------------------------------------------------------ people and addresses


async def workspace_for_team(session: AsyncSession, team_id: str) -> Workspace | None:
    query = select(Workspace).where(
        Workspace.channel == Channel.SLACK, Workspace.external_id == team_id
    )
    return (await session.exec(query)).first()


async def slack_workspaces(session: AsyncSession) -> list[Workspace]:
    query = select(Workspace).where(Workspace.channel == Channel.SLACK).order_by(col(Workspace.id))
    return list((await session.exec(query)).all())


def automatic_key(team_id: str) -> str:
    """The key of a workspace created by an install, until a config file names it
    (`pulsecoach apply` adopts a workspace with this key under the file's key)."""
    return f"slack-{team_id.lower()}"


async def ensure_workspace(
    session: AsyncSession, team_id: str, name: str, timezone: str = "UTC"
) -> Workspace:
    """The pulsecoach workspace of a Slack team, created on first install."""
    found = await workspace_for_team(session, team_id)
    if found is not None:
        return found
    row = Workspace(
        key=automatic_key(team_id),
        name=name or team_id,
        channel=Channel.SLACK,
        external_id=team_id,
        timezone=timezone,
    )
    session.add(row)
    await session.flush()
    return row


async def person_for_user(
    session: AsyncSession, team_id: str, user_id: str
) -> tuple[int, int] | None:
    """(person id, workspace id) of the Slack user in that workspace."""
    query = (
        select(Person.id, Person.workspace_id)
        .join(ChatAddress, col(ChatAddress.person_id) == Person.id)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(
            ChatAddress.channel == Channel.SLACK,
            col(ChatAddress.address)["user_id"].as_string() == user_id,
            Workspace.channel == Channel.SLACK,
            Workspace.external_id == team_id,
        )
    )
    found = (await session.exec(query)).first()
    return (int(found[0] or 0), int(found[1])) if found else None


async def people_by_user(session: AsyncSession, team_id: str) -> dict[str, tuple[int, int]]:
    """Every matched Slack user of a workspace: user id -> (person id, workspace id)."""
    query = (
        select(col(ChatAddress.address)["user_id"].as_string(), Person.id, Person.workspace_id)
        .join(Person, col(ChatAddress.person_id) == Person.id)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(
            ChatAddress.channel == Channel.SLACK,
            Workspace.channel == Channel.SLACK,
            Workspace.external_id == team_id,
        )
    )
    return {
        str(user): (int(person or 0), int(workspace))
        for user, person, workspace in (await session.exec(query)).all()
        if user
    }


async def people_with_addresses(
    session: AsyncSession, workspace_id: int
) -> list[tuple[Person, ChatAddress | None]]:
    """Everyone of a workspace with their Slack address (None when not matched yet)."""
    people = (
        await session.exec(
            select(Person).where(Person.workspace_id == workspace_id).order_by(col(Person.id))
        )
    ).all()
    addresses = {
        a.person_id: a
        for a in (
            await session.exec(
                select(ChatAddress)
                .join(Person, col(Person.id) == ChatAddress.person_id)
                .where(Person.workspace_id == workspace_id, ChatAddress.channel == Channel.SLACK)
            )
        ).all()
    }
    return [(p, addresses.get(p.id or 0)) for p in people]


async def set_address(
    session: AsyncSession, person_id: int, address: dict[str, Any], existing: ChatAddress | None
) -> None:
    if existing is None:
        query = select(ChatAddress).where(
            ChatAddress.person_id == person_id, ChatAddress.channel == Channel.SLACK
        )
        existing = (await session.exec(query)).first()
    row = existing or ChatAddress(person_id=person_id, channel=Channel.SLACK)
    row.address, row.active, row.inactive_reason, row.updated_at = (
        address,
        True,
        None,
        utcnow(),
    )
    session.add(row)


async def _team_address_ids(session: AsyncSession, team_id: str) -> Sequence[int]:
    query = (
        select(ChatAddress.id)
        .join(Person, col(Person.id) == ChatAddress.person_id)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(
            ChatAddress.channel == Channel.SLACK,
            Workspace.channel == Channel.SLACK,
            Workspace.external_id == team_id,
        )
    )
    return [i for i in (await session.exec(query)).all() if i is not None]


async def deactivate_team(session: AsyncSession, team_id: str, reason: str) -> int:
    """Every Slack address of the workspace goes inactive (uninstalled, tokens revoked)."""
    ids = await _team_address_ids(session, team_id)
    if not ids:
        return 0
    statement = (
        update(ChatAddress)
        .where(col(ChatAddress.id).in_(ids), col(ChatAddress.active).is_(True))
        .values(active=False, inactive_reason=reason[:200], updated_at=utcnow())
    )
    return int((await session.exec(statement)).rowcount or 0)


async def reactivate_team(session: AsyncSession, team_id: str, reasons: Sequence[str]) -> int:
    """Addresses switched off only because the app was removed come back on reinstall."""
    ids = await _team_address_ids(session, team_id)
    if not ids:
        return 0
    statement = (
        update(ChatAddress)
        .where(col(ChatAddress.id).in_(ids), col(ChatAddress.inactive_reason).in_(list(reasons)))
        .values(active=True, inactive_reason=None, updated_at=utcnow())
    )
    return int((await session.exec(statement)).rowcount or 0)


async def set_timezone(session: AsyncSession, person_id: int, timezone: str) -> bool:
    """True when the person's zone changed."""
    person = await session.get(Person, person_id)
    if person is None or person.timezone == timezone:
        return False
    person.timezone = timezone
    session.add(person)
    return True


async def person_by_email(session: AsyncSession, workspace_id: int, email: str) -> Person | None:
    query = select(Person).where(
        Person.workspace_id == workspace_id, func.lower(Person.email) == email.lower()
    )
    return (await session.exec(query)).first()


async def deactivate_address(session: AsyncSession, person_id: int, reason: str) -> None:
    statement = (
        update(ChatAddress)
        .where(col(ChatAddress.person_id) == person_id, col(ChatAddress.channel) == Channel.SLACK)
        .values(active=False, inactive_reason=reason[:200], updated_at=utcnow())
    )
    await session.exec(statement)
