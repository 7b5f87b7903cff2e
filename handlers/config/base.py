"""Shared machinery of config sections: the change log with its audit rows, the ids
resolved so far, the section record, and small helpers for diffing rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.config.schema import Config
from storage.core import config_state
from storage.core.models import Person, Team, Workspace


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
            found = await config_state.person_by_handle(session, id_of(workspace), handle)
            if found is None:
                return None
            self.people[ident] = found
        return self.people[ident]

    async def team(self, session: AsyncSession, workspace: Workspace, key: str) -> Team | None:
        ident = (workspace.key, key)
        if ident not in self.teams:
            found = await config_state.team_by_key(session, id_of(workspace), key)
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


def id_of(row: Workspace | Person | Team) -> int:
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


def diff_fields(
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


def update_line(what: str, changed: Mapping[str, Any]) -> str:
    return f"update {what}: {', '.join(changed)}"


class Flow(dict[str, Any]):
    """A mapping written on one line: ``{days: [mon, tue], start: '09:00', end: '18:00'}``."""


async def update_if_changed(
    session: AsyncSession,
    changes: Changes,
    row: Any,
    wanted: Mapping[str, Mapping[str, Any]],
    *,
    what: str,
    action: str,
    target: str,
) -> bool:
    """Write the columns of `wanted` that differ from `row`, with one change line and
    audit row; True when something changed."""
    columns, changed = diff_fields(row, wanted)
    if not columns:
        return False
    await config_state.update(session, row, columns)
    changes.record(update_line(what, changed), action, target, changed=changed)
    return True
