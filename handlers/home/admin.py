"""Admins configure programs in chat. Edits go through the same validation, audit
and locks as the organisation file: a chat edit is a one-program config apply. The
form (admin_form.py) shows every error at once beside its field."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import yaml

from bot.core.events import ActionEvent, FieldErrors, Refused, Reply, TextEvent
from bot.core.messages import Context, Message, Text
from handlers.config.apply import ConfigError, apply_text
from handlers.config.organisation import export_workspaces
from handlers.config.programs import export_programs
from handlers.context import (
    ActionHandler,
    CommandHandler,
    Services,
    no_team,
    which_team,
)
from handlers.home.admin_form import (
    PREVIEW,
    SAVE,
    SEND_NOW,
    SETTINGS,
    TEST_SEND,
    admin_message,
    confirmation,
    label,
)
from handlers.pulse.commands import COMMANDS as pulse_commands
from handlers.pulse.schedule import preview
from prompts.texts import text
from storage.core import directory

log = logging.getLogger(__name__)

__all__ = ["ACTIONS", "COMMANDS", "admin_message", "program_settings", "update_program"]


async def _require_admin(services: Services, person_id: int, team_key: str) -> str:
    """The team's name, when the person is one of its admins."""
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        if team is None:
            raise no_team(team_key)
        if not await directory.has_role(session, person_id, team.id or 0, ["admin"]):
            raise Refused(text("admin.only", team=team.name))
        return team.name


Entries = dict[str, dict[str, Any]]  # section ("programs", "workspaces") -> its entry


async def _entries(services: Services, team_key: str) -> Entries:
    """The team's program and its workspace, as their config-file entries (only those
    two are exported)."""
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        workspace = await directory.workspace(session, team.workspace_id) if team else None
        programs = await export_programs(session)
        workspaces = await export_workspaces(session)
    program = next((e for e in programs if e["team"] == team_key), None)
    if program is None or workspace is None:
        raise Refused(text("admin.no_program", team=team_key))
    found = next(e for e in workspaces if e["key"] == workspace.key)
    # Plain dicts and lists, as read from a file.
    return json.loads(json.dumps({"programs": program, "workspaces": found}, default=str))


def _values(entries: Entries) -> dict[str, str]:
    values: dict[str, str] = {}
    for field, setting in SETTINGS.items():
        value: Any = entries[setting.section]
        for part in setting.path:
            value = (value or {}).get(part)
        values[field] = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
    return values


async def program_settings(services: Services, person_id: int, team_key: str) -> dict[str, str]:
    """The editable settings of the team's program (and its workspace's), as text, for
    forms and views."""
    await _require_admin(services, person_id, team_key)
    return _values(await _entries(services, team_key))


def _coerce(field: str, raw: str) -> Any:
    """The value as the file holds it; ValueError says what is wrong, in plain words."""
    setting = SETTINGS[field]
    raw = raw.strip()
    if setting.kind == "number":
        if not raw.lstrip("-").isdigit():
            raise ValueError(text("admin.error.number", value=raw))
        return int(raw)
    if setting.kind == "select" and raw.lower() not in setting.options:
        choices = ", ".join(c.label for c in setting.choices(field))
        raise ValueError(text("admin.error.choice", value=raw, choices=choices))
    if field == "team_sees_results":
        return raw.lower() == "true"
    return raw.lower() if setting.kind == "select" else raw


def _with(entries: Entries, field: str, value: Any) -> Entries:
    changed: Entries = json.loads(json.dumps(entries))
    setting = SETTINGS[field]
    *parents, leaf = setting.path
    node = changed[setting.section]
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return changed


async def _apply(
    services: Services, entries: Entries, person_id: int, dry_run: bool, workspace: bool
) -> list[str]:
    """A one-program config apply; with `workspace`, its workspace's entry too (in the
    same transaction: both or neither)."""
    document: dict[str, Any] = {"workspaces": [entries["workspaces"]]} if workspace else {}
    document["programs"] = [entries["programs"]]
    report = await apply_text(
        services.db,
        yaml.safe_dump(document, sort_keys=False),
        filename="chat",
        dry_run=dry_run,
        actor=f"person:{person_id}",
    )
    if not dry_run and report.changes:
        log.info(
            "admin change by person %s: %s",
            person_id,
            "; ".join(report.changes),
            extra={"event": "admin.changed", "actor": f"person:{person_id}"},
        )
    return report.changes


def _field_of(error: ConfigError) -> str | None:
    leaf = error.field.split(".")[-1] if error.field else ""
    return next((f for f, s in SETTINGS.items() if s.path[-1] == leaf), None)


async def update_program(
    services: Services, person_id: int, team_key: str, changes: Mapping[str, str]
) -> list[str]:
    """Apply `changes` (field -> text) to the team's program, all or nothing. Every
    wrong value is found at once (each checked on its own against the file's rules)
    and refused together, beside its field (FieldErrors); then nothing is stored."""
    team_name = await _require_admin(services, person_id, team_key)
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise Refused(
            text("admin.unknown", fields=", ".join(unknown), editable=", ".join(SETTINGS))
        )
    entry = await _entries(services, team_key)
    current = _values(entry)
    wanted = {f: v.strip() for f, v in changes.items() if v.strip() and v.strip() != current[f]}
    errors: dict[str, str] = {}
    coerced: dict[str, Any] = {}
    for field, raw in wanted.items():
        try:
            coerced[field] = _coerce(field, raw)
        except ValueError as error:
            errors[field] = f"{label(field)}: {error}"
    workspace = any(SETTINGS[f].section == "workspaces" for f in coerced)
    for field, value in coerced.items():  # each against the file's rules, on its own
        try:
            alone = _with(entry, field, value)
            await _apply(services, alone, person_id, dry_run=True, workspace=workspace)
        except ConfigError as error:
            errors[field] = f"{label(field)}: {error.reason}"
    together = entry
    for field, value in coerced.items():
        together = _with(together, field, value)
    if not errors:
        try:
            return await _apply(services, together, person_id, dry_run=False, workspace=workspace)
        except ConfigError as error:  # only the combination is wrong
            field = _field_of(error) or next(iter(coerced), "frequency")
            errors[field] = f"{label(field)}: {error.reason}"
    shown = {**current, **{f: v for f, v in changes.items() if f in SETTINGS}}
    raise FieldErrors(errors, admin_message(team_key, team_name, shown, errors))


async def _next_pulse(services: Services, team_key: str) -> str | None:
    """The next planned pulse, as people will see it in their own zone."""
    rows = await preview(services, team_key, 62)
    sent = [r for r in rows if not r.skipped]
    if not sent:
        return None
    first = min(sent, key=lambda r: r.utc)
    return f"{first.local:%A %d %b, %H:%M}"


def preview_lines(rows: list[Any]) -> tuple[str, ...]:
    return tuple(
        f"{r.person}: {r.local:%a %d %b %H:%M} {r.timezone} ({r.utc:%H:%M} UTC)"
        + (f" — moved: {', '.join(r.reasons)}" if r.reasons else "")
        + (f" — skipped: {r.skipped}" if r.skipped else "")
        for r in rows
    )


async def preview_message(services: Services, team_key: str, days: int) -> Message:
    lines = preview_lines(await preview(services, team_key, days))
    heading = text("admin.preview.heading", team=team_key, days=days)
    body = lines or (text("admin.preview.none", days=days),)
    return Message(
        ref=f"admin-preview:{team_key}",
        text=heading,
        blocks=(Text(text=heading, style="heading"), Context(lines=body[:40])),
    )


async def _admin_team(services: Services, event: TextEvent, args: list[str], command: str) -> str:
    if args:
        return args[0]
    async with services.db.session() as session:
        teams = [
            t.key
            for t, role in await directory.roles_of(session, event.actor.person_id)
            if role == "admin"
        ]
    if len(teams) == 1:
        return teams[0]
    raise which_team(command, teams)


async def cmd_admin(services: Services, event: TextEvent, args: list[str]) -> Reply:
    team_key = await _admin_team(services, event, args, "admin")
    values = await program_settings(services, event.actor.person_id, team_key)
    name = await _require_admin(services, event.actor.person_id, team_key)
    return Reply(messages=(admin_message(team_key, name, values),))


async def cmd_schedule(services: Services, event: TextEvent, args: list[str]) -> Reply:
    team_key = await _admin_team(services, event, args[:1], "schedule")
    await _require_admin(services, event.actor.person_id, team_key)
    days = int(args[1]) if len(args) > 1 and args[1].isdigit() else 14
    return Reply(messages=(await preview_message(services, team_key, min(days, 90)),))


async def on_save(services: Services, event: ActionEvent) -> Reply:
    changes = {k: v for k, v in event.inputs.items() if k in SETTINGS}
    before = await program_settings(services, event.actor.person_id, event.value)
    applied = await update_program(services, event.actor.person_id, event.value, changes)
    values = await program_settings(services, event.actor.person_id, event.value)
    name = await _require_admin(services, event.actor.person_id, event.value)
    if applied:
        changed = [f for f in SETTINGS if before[f] != values[f]]
        note = confirmation(values, await _next_pulse(services, event.value), changed)
    else:
        note = text("admin.unchanged")
    return Reply(update=admin_message(event.value, name, values), notice=note)


async def on_preview(services: Services, event: ActionEvent) -> Reply:
    await _require_admin(services, event.actor.person_id, event.value)
    return Reply(messages=(await preview_message(services, event.value, 14),))


async def on_send(services: Services, event: ActionEvent) -> Reply:
    """Send now / test-send to me: the same as `pulse send|test TEAM` in chat."""
    verb = "send" if event.action_id == SEND_NOW else "test"
    command = TextEvent(actor=event.actor, text=f"pulse {verb} {event.value}")
    return await pulse_commands["pulse"](services, command, [verb, event.value])


ACTIONS: dict[str, ActionHandler] = {
    SAVE: on_save,
    PREVIEW: on_preview,
    SEND_NOW: on_send,
    TEST_SEND: on_send,
}
COMMANDS: dict[str, CommandHandler] = {"admin": cmd_admin, "schedule": cmd_schedule}
