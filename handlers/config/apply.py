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
- a Slack workspace that installed pulsecoach before it was in any file has the key
  ``slack-<team id>``; the file's entry for that team id adopts it (it takes the file's
  key and keeps its id, people and installation). A workspace of another key stays a
  conflict;
- is idempotent: applying the same file again reports no changes;
- applies the whole file in one transaction: any error, however late, stores nothing;
- with `dry_run`, does all the work, reports the same changes, and rolls back;
- writes one audit row per change, by actor ``config:<file name>`` unless told otherwise.

`pulsecoach export-config` writes the database in the same format, in a stable order;
applying an export changes nothing, and applying it to an empty database rebuilds the
same organisation.

Sections are applied in the order of `SECTIONS` (workspaces -> people -> teams -> ...).
A later section lives in a module of its own (see `handlers/config/programs.py`): its
spec model (built from `handlers/config/fields.py`), added to `schema.Config` as one
more optional list, an ``async def apply_X(session, cfg, ids, changes)`` and an
``async def export_X(session)`` (helpers in `handlers/config/base.py`), and one
`Section` entry in `SECTIONS` below. Appliers raise
`FieldError` with the full path into the file for problems only the database reveals,
look up what earlier sections resolved in `Ids`, and report through `Changes.record`.
All database access goes through `storage.core.config_state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from handlers.config.base import Changes, Flow, Ids, Section
from handlers.config.contracts import (
    apply_commitments,
    apply_contracts,
    export_commitments,
    export_contracts,
)
from handlers.config.fields import ConfigError, FieldError
from handlers.config.loader import LoadedConfig, load_file, load_text
from handlers.config.organisation import (
    apply_people,
    apply_teams,
    apply_workspaces,
    export_people,
    export_teams,
    export_workspaces,
)
from handlers.config.programs import apply_programs, export_programs
from handlers.config.retention import check_retention
from handlers.config.sessions import apply_sessions, export_sessions
from storage.core import config_state
from storage.core.db import Database

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


SECTIONS: list[Section] = [
    Section("workspaces", apply_workspaces, export_workspaces),
    Section("people", apply_people, export_people),
    Section("teams", apply_teams, export_teams),
    Section("programs", apply_programs, export_programs),
    Section("contracts", apply_contracts, export_contracts),
    Section("commitments", apply_commitments, export_commitments),  # norms first: links
    Section("sessions", apply_sessions, export_sessions),  # keep last: after contracts too
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
            await check_retention(session, loaded.config, ids)  # on the result of them all
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


class _Dumper(yaml.SafeDumper):
    """Indented block lists, flow style for lists of plain values and `Flow` mappings."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


def _represent_flow(dumper: yaml.SafeDumper, data: Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(Flow, _represent_flow)
