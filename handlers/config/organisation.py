"""The organisation sections: workspaces, people and teams (with their members)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.config.base import Changes, Flow, Ids, id_of, update_if_changed
from handlers.config.fields import ROLES, WEEKDAYS, FieldError
from handlers.config.schema import Config, Leave, PersonSpec
from storage.core import config_state
from storage.core.models import Channel, Person, Workspace

# --------------------------------------------------------------------------- workspaces


async def apply_workspaces(session: AsyncSession, cfg: Config, ids: Ids, changes: Changes) -> None:
    for index, spec in enumerate(cfg.workspaces):
        row = await config_state.workspace_by_key(session, spec.key)
        external_id = spec.effective_external_id
        if spec.channel == Channel.LOCAL:
            for other in await config_state.local_workspaces(session):
                if other.key != spec.key:
                    raise FieldError(
                        ("workspaces", index, "channel"),
                        f"only one local workspace is allowed; {other.key!r} is already local",
                    )
        other_ws = await config_state.workspace_by_external_id(session, spec.channel, external_id)
        if other_ws is not None and other_ws.key != spec.key:
            row = await _adopt(session, spec.key, other_ws, row, changes, index)
        wanted: dict[str, dict[str, Any]] = {
            "name": {"name": spec.name},
            "channel": {"channel": spec.channel},
            "external_id": {"external_id": external_id},
            "timezone": {"timezone": spec.timezone},
        }
        if row is None or "holidays" in spec.model_fields_set:
            wanted["holidays"] = {"holidays": spec.holiday_list}
        if row is None or "retention_months" in spec.model_fields_set:
            wanted["retention_months"] = {"retention_months": spec.retention_months}
        target = f"workspace:{spec.key}"
        if row is None:
            values = {"key": spec.key} | {k: v for cols in wanted.values() for k, v in cols.items()}
            row = await config_state.create_workspace(session, values)
            changes.record(f"create workspace {spec.key}", "create_workspace", target, **values)
        else:
            await update_if_changed(
                session,
                changes,
                row,
                wanted,
                what=f"workspace {spec.key}",
                action="update_workspace",
                target=target,
            )
        ids.workspaces[spec.key] = row


async def _adopt(
    session: AsyncSession,
    key: str,
    found: Workspace,
    taken: Workspace | None,
    changes: Changes,
    index: int,
) -> Workspace:
    """The file declares workspace `key` for the channel id of `found`, stored under
    another key. A workspace an install created (its key still the automatic one) is
    adopted: it takes the file's key and keeps its id, so its installation, people and
    chat addresses stay with it. Any other is a conflict."""
    where = ("workspaces", index, "external_id")
    channel_id = f"{found.channel} workspace {found.external_id!r}"
    if not config_state.named_by_install(found):
        raise FieldError(where, f"{channel_id} is already {found.key!r}: use that key")
    if taken is not None:
        raise FieldError(
            where,
            f"{channel_id} is already {found.key!r}, which cannot become {key!r}: "
            f"that key is {taken.channel} workspace {taken.external_id!r}",
        )
    old = found.key
    await config_state.update(session, found, {"key": key})
    changes.record(
        f"adopt workspace {old} ({channel_id}) as {key}",
        "adopt_workspace",
        f"workspace:{key}",
        key=[old, key],
        channel=found.channel,
        external_id=found.external_id,
    )
    return found


async def export_workspaces(session: AsyncSession) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in await config_state.all_workspaces(session):
        entry: dict[str, Any] = {"key": row.key, "name": row.name, "channel": row.channel}
        if not (row.channel == Channel.LOCAL and row.external_id == row.key):
            entry["external_id"] = row.external_id
        entry["timezone"] = row.timezone
        entry["holidays"] = sorted(_as_date(day) for day in row.holidays)
        entry["retention_months"] = row.retention_months
        out.append(entry)
    return out


def _as_date(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


# --------------------------------------------------------------------------- people

# What the file owns of a chat address. The rest (a Teams conversation reference,
# caught when the person installs the app) belongs to the channel: kept across
# applies, never exported.
FILE_KEYS: dict[str, tuple[str, ...]] = {Channel.TEAMS: ("aad_object_id",)}


def _owned(channel: str, address: dict[str, Any]) -> dict[str, Any]:
    keys = FILE_KEYS.get(channel)
    return dict(address) if keys is None else {k: address[k] for k in keys if k in address}


def _merged(channel: str, stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The address to store: the file's part over the channel's, which stays while it
    is the same user's (a new Azure AD id starts afresh)."""
    if channel not in FILE_KEYS or _owned(channel, stored).keys() - given.keys():
        return dict(given)
    same = all(stored.get(k) == v for k, v in given.items())
    return dict(stored) | given if same else dict(given)


def _person_columns(spec: PersonSpec, creating: bool) -> dict[str, dict[str, Any]]:
    """{file field: {column: value}} for the fields given (all of them when creating)."""
    given = spec.model_fields_set
    hours = spec.working_hours
    leave = spec.leave or Leave()
    every: dict[str, dict[str, Any]] = {
        "name": {"name": spec.name},
        "email": {"email": spec.email},
        "timezone": {"timezone": spec.timezone},
        "locale": {"locale": spec.locale},
        "working_hours": {
            "work_days": hours.day_numbers,
            "work_start": hours.start,
            "work_end": hours.end,
            "quiet_hours": hours.quiet,
        },
        "snoozed_until": {"snoozed_until": spec.snoozed_until},
        "leave": {"leave_from": leave.from_, "leave_until": leave.until},
    }
    return {name: cols for name, cols in every.items() if creating or name in given}


async def apply_people(session: AsyncSession, cfg: Config, ids: Ids, changes: Changes) -> None:
    for index, spec in enumerate(cfg.people):
        workspace = await ids.workspace(session, spec.workspace)
        if workspace is None:
            raise FieldError(
                ("people", index, "workspace"),
                f"no workspace {spec.workspace!r} in this file or the database",
            )
        who = f"{spec.handle} ({workspace.key})"
        target = f"person:{workspace.key}/{spec.handle}"
        row = await config_state.person_by_handle(session, id_of(workspace), spec.handle)
        addresses = spec.chat.addresses()
        if workspace.channel == Channel.LOCAL:
            addresses[Channel.LOCAL] = {"inbox": spec.handle}
        if row is None:
            wanted = _person_columns(spec, creating=True)
            values = {k: v for cols in wanted.values() for k, v in cols.items()}
            row = await config_state.create_person(
                session, {"workspace_id": workspace.id, "handle": spec.handle} | values
            )
            for channel, address in addresses.items():
                await config_state.set_address(session, id_of(row), channel, address)
            changes.record(
                f"create person {who}", "create_person", target, **values, chat=addresses
            )
        else:
            await update_if_changed(
                session,
                changes,
                row,
                _person_columns(spec, creating=False),
                what=f"person {who}",
                action="update_person",
                target=target,
            )
            stored = await config_state.addresses_of(session, id_of(row))
            for channel, address in addresses.items():
                existing = stored.get(channel)
                if existing is not None and _owned(channel, existing.address) == address:
                    continue
                verb = "add" if existing is None else "update"
                keep = _merged(channel, dict(existing.address) if existing else {}, address)
                await config_state.set_address(session, id_of(row), channel, keep, existing)
                changes.record(
                    f"{verb} {channel} address for {who}",
                    f"{verb}_address",
                    target,
                    channel=channel,
                    address=address,
                )
        ids.people[(workspace.key, spec.handle)] = row


async def export_people(session: AsyncSession) -> list[dict[str, Any]]:
    addresses = await config_state.all_addresses(session)
    out: list[dict[str, Any]] = []
    for row, workspace in await config_state.all_people(session):
        entry: dict[str, Any] = {"handle": row.handle, "workspace": workspace.key, "name": row.name}
        if row.email is not None:
            entry["email"] = row.email
        if row.timezone is not None:
            entry["timezone"] = row.timezone
        entry["locale"] = row.locale
        entry["working_hours"] = Flow(
            days=[WEEKDAYS[day] for day in sorted(row.work_days)],
            start=row.work_start,
            end=row.work_end,
            quiet=row.quiet_hours or "off",
        )
        chat = {
            channel: owned
            for channel, address in sorted(addresses.get(id_of(row), {}).items())
            if channel != Channel.LOCAL and (owned := _owned(channel, dict(address.address)))
        }
        if chat:
            entry["chat"] = chat
        if row.snoozed_until is not None:
            entry["snoozed_until"] = row.snoozed_until
        if row.leave_from is not None or row.leave_until is not None:
            leave = Flow()
            if row.leave_from is not None:
                leave["from"] = row.leave_from
            if row.leave_until is not None:
                leave["until"] = row.leave_until
            entry["leave"] = leave
        out.append(entry)
    return out


# --------------------------------------------------------------------------- teams


async def apply_teams(session: AsyncSession, cfg: Config, ids: Ids, changes: Changes) -> None:
    for index, spec in enumerate(cfg.teams):
        workspace = await ids.workspace(session, spec.workspace)
        if workspace is None:
            raise FieldError(
                ("teams", index, "workspace"),
                f"no workspace {spec.workspace!r} in this file or the database",
            )
        team_name = f"{spec.key} ({workspace.key})"
        target = f"team:{workspace.key}/{spec.key}"
        wanted: dict[str, dict[str, Any]] = {"name": {"name": spec.name}}
        row = await ids.team(session, workspace, spec.key)
        if row is None or "timezone" in spec.model_fields_set:
            wanted["timezone"] = {"timezone": spec.timezone}
        if row is None:
            values = {k: v for cols in wanted.values() for k, v in cols.items()}
            row = await config_state.create_team(
                session, {"workspace_id": workspace.id, "key": spec.key} | values
            )
            changes.record(f"create team {team_name}", "create_team", target, **values)
        else:
            await update_if_changed(
                session,
                changes,
                row,
                wanted,
                what=f"team {team_name}",
                action="update_team",
                target=target,
            )
        ids.teams[(workspace.key, spec.key)] = row

        # Membership: exactly what the file lists.
        wanted_members: list[tuple[str, Person]] = []
        for role, handle, position in spec.member_list():
            person = await ids.person(session, workspace, handle)
            if person is None:
                raise FieldError(
                    ("teams", index, "members", role, position),
                    f"no person {handle!r} in workspace {workspace.key!r} "
                    "(not in this file's people nor in the database)",
                )
            wanted_members.append((role, person))
        stored = await config_state.memberships_of(session, id_of(row))
        have = {(membership.role, membership.person_id) for membership, _ in stored}
        keep = {(role, id_of(person)) for role, person in wanted_members}
        for membership, handle in stored:
            if (membership.role, membership.person_id) not in keep:
                await config_state.remove_membership(session, membership)
                changes.record(
                    f"remove {membership.role} {handle} from {team_name}",
                    "remove_member",
                    target,
                    role=membership.role,
                    person=handle,
                )
        for role, person in wanted_members:
            if (role, id_of(person)) not in have:
                await config_state.add_membership(session, id_of(row), id_of(person), role)
                changes.record(
                    f"add {role} {person.handle} to {team_name}",
                    "add_member",
                    target,
                    role=role,
                    person=person.handle,
                )


async def export_teams(session: AsyncSession) -> list[dict[str, Any]]:
    members: dict[int, dict[str, list[str]]] = {}
    for membership, person in await config_state.all_memberships(session):
        members.setdefault(membership.team_id, {}).setdefault(membership.role, []).append(
            person.handle
        )
    out: list[dict[str, Any]] = []
    for row, workspace in await config_state.all_teams(session):
        entry: dict[str, Any] = {"key": row.key, "workspace": workspace.key, "name": row.name}
        if row.timezone is not None:
            entry["timezone"] = row.timezone
        by_role = members.get(id_of(row), {})
        entry["members"] = {role: by_role[role] for role in ROLES if by_role.get(role)}
        out.append(entry)
    return out
