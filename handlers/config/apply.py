"""Config as code: apply an organisation file to the database, or export the database as one.

`pulsecoach apply FILE.yaml` (format: `handlers/config/schema.py`):

- creates or updates the workspaces, people, teams, memberships and chat addresses in the
  file. Nothing that is not in the file is deleted or changed, with ONE exception: the
  membership of every team listed in the file is made to match its `members` exactly
  (a membership not listed there is removed);
- inside an entry, a field left out keeps its stored value (a new entry gets the default)
  and an optional field given as `null` is cleared; chat addresses are added or replaced
  per channel, never removed; a person in the local workspace always has the local
  address ``{"inbox": handle}``;
- a team member handle may name a person of that workspace who is only in the database;
- is idempotent: applying the same file again reports no changes;
- applies the whole file in one transaction: any error, however late, stores nothing;
- with `dry_run`, does all the work, reports the same changes, and rolls back;
- writes one audit row per change, by actor ``config:<file name>`` unless told otherwise.

`pulsecoach export-config` writes the database in the same format, in a stable order;
applying an export changes nothing, and applying it to an empty database rebuilds the
same organisation.

Sections are applied in the order of `SECTIONS` (workspaces -> people -> teams -> ...).
A later section (e.g. pulse `programs:`) adds its list to `schema.Config`, an
``async def apply_programs(session, cfg, ids, changes)`` and an
``async def export_programs(session)`` here, and one `Section` entry. Appliers raise
`FieldError` with the full path into the file for problems only the database reveals,
look up what earlier sections resolved in `Ids`, and report through `Changes.record`.
All database access goes through `storage.config_state`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.config.loader import LoadedConfig, load_file, load_text
from handlers.config.schema import (
    ROLES,
    WEEKDAYS,
    Config,
    ConfigError,
    FieldError,
    Leave,
    PersonSpec,
)
from storage import config_state
from storage.db import Database
from storage.models import Channel, Person, Team, Workspace

__all__ = [
    "SECTIONS",
    "ApplyReport",
    "Changes",
    "ConfigError",
    "FieldError",
    "Ids",
    "Section",
    "apply_file",
    "apply_text",
    "export_config",
]


@dataclass(frozen=True)
class ApplyReport:
    changes: list[str]
    dry_run: bool


@dataclass
class Changes:
    """What applying changed, one readable line each, with an audit row per change."""

    session: AsyncSession
    actor: str
    lines: list[str] = field(default_factory=list)

    def record(self, line: str, action: str, target: str, **detail: Any) -> None:
        self.lines.append(line)
        config_state.audit(
            self.session, self.actor, f"config.{action}", target, **_jsonable(detail)
        )


@dataclass
class Ids:
    """What earlier sections resolved, for later ones: rows by workspace key (and handle or
    team key). Lookups fall back to the database for things not in the file."""

    workspaces: dict[str, Workspace] = field(default_factory=dict)
    people: dict[tuple[str, str], Person] = field(default_factory=dict)
    teams: dict[tuple[str, str], Team] = field(default_factory=dict)

    async def workspace(self, session: AsyncSession, key: str) -> Workspace | None:
        if key not in self.workspaces:
            found = await config_state.workspace_by_key(session, key)
            if found is None:
                return None
            self.workspaces[key] = found
        return self.workspaces[key]

    async def person(
        self, session: AsyncSession, workspace: Workspace, handle: str
    ) -> Person | None:
        ident = (workspace.key, handle)
        if ident not in self.people:
            found = await config_state.person_by_handle(session, _id(workspace), handle)
            if found is None:
                return None
            self.people[ident] = found
        return self.people[ident]

    async def team(self, session: AsyncSession, workspace: Workspace, key: str) -> Team | None:
        ident = (workspace.key, key)
        if ident not in self.teams:
            found = await config_state.team_by_key(session, _id(workspace), key)
            if found is None:
                return None
            self.teams[ident] = found
        return self.teams[ident]


Applier = Callable[[AsyncSession, Config, Ids, Changes], Awaitable[None]]
Exporter = Callable[[AsyncSession], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class Section:
    key: str  # the top-level key in the file
    apply: Applier
    export: Exporter


# --------------------------------------------------------------------------- helpers


def _id(row: Workspace | Person | Team) -> int:
    assert row.id is not None, "rows are flushed before use"
    return row.id


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _diff(
    row: Any, wanted: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Stored columns to change, and {file field: [old, new]} for the report and audit.

    `wanted` maps each file field to the columns it sets."""
    columns: dict[str, Any] = {}
    changed: dict[str, Any] = {}
    for name, values in wanted.items():
        old = {column: getattr(row, column) for column in values}
        if old != dict(values):
            columns.update(values)
            changed[name] = [_jsonable(_one(old)), _jsonable(_one(dict(values)))]
    return columns, changed


def _one(values: dict[str, Any]) -> Any:
    return next(iter(values.values())) if len(values) == 1 else values


def _update_line(what: str, changed: Mapping[str, Any]) -> str:
    return f"update {what}: {', '.join(changed)}"


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
            raise FieldError(
                ("workspaces", index, "external_id"),
                f"{spec.channel} workspace {external_id!r} is already {other_ws.key!r}",
            )
        wanted: dict[str, dict[str, Any]] = {
            "name": {"name": spec.name},
            "channel": {"channel": spec.channel},
            "external_id": {"external_id": external_id},
            "timezone": {"timezone": spec.timezone},
        }
        if row is None or "holidays" in spec.model_fields_set:
            wanted["holidays"] = {"holidays": spec.holiday_list}
        target = f"workspace:{spec.key}"
        if row is None:
            values = {"key": spec.key} | {k: v for cols in wanted.values() for k, v in cols.items()}
            row = await config_state.create_workspace(session, values)
            changes.record(f"create workspace {spec.key}", "create_workspace", target, **values)
        else:
            columns, changed = _diff(row, wanted)
            if columns:
                await config_state.update(session, row, columns)
                changes.record(
                    _update_line(f"workspace {spec.key}", changed),
                    "update_workspace",
                    target,
                    changed=changed,
                )
        ids.workspaces[spec.key] = row


async def export_workspaces(session: AsyncSession) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in await config_state.all_workspaces(session):
        entry: dict[str, Any] = {"key": row.key, "name": row.name, "channel": row.channel}
        if not (row.channel == Channel.LOCAL and row.external_id == row.key):
            entry["external_id"] = row.external_id
        entry["timezone"] = row.timezone
        entry["holidays"] = sorted(_as_date(day) for day in row.holidays)
        out.append(entry)
    return out


def _as_date(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


# --------------------------------------------------------------------------- people


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
        row = await config_state.person_by_handle(session, _id(workspace), spec.handle)
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
                await config_state.set_address(session, _id(row), channel, address)
            changes.record(
                f"create person {who}", "create_person", target, **values, chat=addresses
            )
        else:
            columns, changed = _diff(row, _person_columns(spec, creating=False))
            if columns:
                await config_state.update(session, row, columns)
                changes.record(
                    _update_line(f"person {who}", changed),
                    "update_person",
                    target,
                    changed=changed,
                )
            stored = await config_state.addresses_of(session, _id(row))
            for channel, address in addresses.items():
                existing = stored.get(channel)
                if existing is not None and existing.address == address:
                    continue
                verb = "add" if existing is None else "update"
                await config_state.set_address(session, _id(row), channel, address, existing)
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
        entry["working_hours"] = _Flow(
            days=[WEEKDAYS[day] for day in sorted(row.work_days)],
            start=row.work_start,
            end=row.work_end,
        )
        chat = {
            channel: dict(address.address)
            for channel, address in sorted(addresses.get(_id(row), {}).items())
            if channel != Channel.LOCAL
        }
        if chat:
            entry["chat"] = chat
        if row.snoozed_until is not None:
            entry["snoozed_until"] = row.snoozed_until
        if row.leave_from is not None or row.leave_until is not None:
            leave = _Flow()
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
            columns, changed = _diff(row, wanted)
            if columns:
                await config_state.update(session, row, columns)
                changes.record(
                    _update_line(f"team {team_name}", changed),
                    "update_team",
                    target,
                    changed=changed,
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
        stored = await config_state.memberships_of(session, _id(row))
        have = {(membership.role, membership.person_id) for membership, _ in stored}
        keep = {(role, _id(person)) for role, person in wanted_members}
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
            if (role, _id(person)) not in have:
                await config_state.add_membership(session, _id(row), _id(person), role)
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
        by_role = members.get(_id(row), {})
        entry["members"] = {role: by_role[role] for role in ROLES if by_role.get(role)}
        out.append(entry)
    return out


SECTIONS: list[Section] = [
    Section("workspaces", apply_workspaces, export_workspaces),
    Section("people", apply_people, export_people),
    Section("teams", apply_teams, export_teams),
]


# --------------------------------------------------------------------------- entry points


async def apply_file(
    db: Database, path: Path, *, dry_run: bool = False, actor: str | None = None
) -> ApplyReport:
    """Apply an organisation file; errors name the path as given."""
    loaded = load_file(Path(path))
    return await _apply(db, loaded, dry_run=dry_run, actor=actor or f"config:{Path(path).name}")


async def apply_text(
    db: Database,
    text: str,
    *,
    filename: str = "<config>",
    dry_run: bool = False,
    actor: str | None = None,
) -> ApplyReport:
    """Apply organisation YAML given as text (`filename` is only used in messages)."""
    loaded = load_text(text, filename)
    return await _apply(db, loaded, dry_run=dry_run, actor=actor or f"config:{filename}")


async def _apply(db: Database, loaded: LoadedConfig, *, dry_run: bool, actor: str) -> ApplyReport:
    lines: list[str] = []
    try:
        async with config_state.unit_of_work(db, dry_run=dry_run) as session:
            changes = Changes(session, actor, lines)
            ids = Ids()
            for section in SECTIONS:
                await section.apply(session, loaded.config, ids, changes)
    except FieldError as exc:
        raise loaded.error(exc.loc, exc.reason) from None
    except config_state.StorageConflict as exc:
        raise ConfigError(
            loaded.filename, None, None, f"the database refused the change: {exc}"
        ) from None
    return ApplyReport(changes=lines, dry_run=dry_run)


_HEADER = (
    "# The organisation, written by `pulsecoach export-config`.\n"
    "# Apply it with `pulsecoach apply FILE` (add --dry-run to preview).\n"
)


async def export_config(db: Database) -> str:
    """The database's organisation as YAML in the `apply` format, in a stable order."""
    data: dict[str, Any] = {}
    async with config_state.unit_of_work(db, dry_run=True) as session:
        for section in SECTIONS:
            entries = await section.export(session)
            if entries:
                data[section.key] = entries
    body = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return _HEADER + body


class _Flow(dict[str, Any]):
    """A mapping written on one line: ``{days: [mon, tue], start: '09:00', end: '18:00'}``."""


class _Dumper(yaml.SafeDumper):
    """Indented block lists, flow style for lists of plain values and `_Flow` mappings."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_Flow, _represent_flow)
