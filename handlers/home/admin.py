"""Admins configure programs in chat. Edits go through the same validation, audit
and locks as the organisation file: a chat edit is a one-program config apply."""

from __future__ import annotations

import json
from typing import Any

import yaml

from bot.core.events import ActionEvent, Refused, Reply, TextEvent
from bot.core.messages import Button, Buttons, Context, Field_, Fields, Message, Text, TextInput
from handlers.config.apply import ConfigError, apply_text
from handlers.config.programs import export_programs
from handlers.context import ActionHandler, CommandHandler, Services, no_team, which_team
from handlers.pulse.commands import COMMANDS as pulse_commands
from handlers.pulse.schedule import preview
from prompts.texts import text
from storage.core import directory

SAVE = "admin.save"
PREVIEW = "admin.preview"
SEND_NOW = "admin.send"
TEST_SEND = "admin.test"
# Editable in chat: field -> (label, path into the program entry of the file).
EDITABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "frequency": ("Cadence (weekly, biweekly, monthly)", ("cadence", "frequency")),
    "weekday": ("Weekday (mon … sun)", ("cadence", "weekday")),
    "at": ("Local send time (HH:MM)", ("cadence", "at")),
    "window_hours": ("Response window (hours)", ("window_hours",)),
    "items_per_pulse": ("Items per pulse", ("items_per_pulse",)),
    "min_respondents": ("Minimum respondents (3 or more)", ("thresholds", "respondents")),
    "min_comments": ("Minimum respondents for comments", ("thresholds", "comments")),
    "privacy": ("Privacy (anonymous, confidential)", ("privacy",)),
    "team_sees_results": ("Team sees results (true, false)", ("team_sees_results",)),
}


async def _require_admin(services: Services, person_id: int, team_key: str) -> None:
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        if team is None:
            raise no_team(team_key)
        if not await directory.has_role(session, person_id, team.id or 0, ["admin"]):
            raise Refused(text("admin.only", team=team.name))


async def _program_entry(services: Services, team_key: str) -> dict[str, Any]:
    """The team's program as its config-file entry (only the programs are exported)."""
    async with services.db.session() as session:
        entries = await export_programs(session)
    for entry in entries:
        if entry["team"] == team_key:
            return json.loads(json.dumps(entry))  # plain dicts and lists, as read from a file
    raise Refused(f"Team {team_key!r} has no pulse program yet: add one in the config file.")


async def program_settings(services: Services, person_id: int, team_key: str) -> dict[str, str]:
    """The editable settings of the team's program, as text, for forms and views."""
    await _require_admin(services, person_id, team_key)
    entry = await _program_entry(services, team_key)
    values: dict[str, str] = {}
    for field, (_, path) in EDITABLE.items():
        value: Any = entry
        for part in path:
            value = (value or {}).get(part)
        values[field] = (
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        )
    return values


def _coerce(field: str, raw: str) -> Any:
    raw = raw.strip()
    if field in ("window_hours", "items_per_pulse", "min_respondents", "min_comments"):
        if not raw.lstrip("-").isdigit():
            raise Refused(f"{EDITABLE[field][0]}: {raw!r} is not a whole number.")
        return int(raw)
    if field == "team_sees_results":
        if raw.lower() not in ("true", "false", "yes", "no"):
            raise Refused(f"{EDITABLE[field][0]}: say true or false.")
        return raw.lower() in ("true", "yes")
    return raw


async def update_program(
    services: Services, person_id: int, team_key: str, changes: dict[str, str]
) -> list[str]:
    """Apply `changes` (field -> text) to the team's program; a specific Refused when
    a value is wrong or locked, and then nothing is stored."""
    await _require_admin(services, person_id, team_key)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Refused(f"Cannot edit {', '.join(unknown)} here; editable: {', '.join(EDITABLE)}.")
    entry = await _program_entry(services, team_key)
    for field, raw in changes.items():
        if raw.strip() == "":
            continue
        *parents, leaf = EDITABLE[field][1]
        node = entry
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _coerce(field, raw)
    document = yaml.safe_dump({"programs": [entry]}, sort_keys=False)
    try:
        report = await apply_text(
            services.db, document, filename="chat", actor=f"person:{person_id}"
        )
    except ConfigError as error:
        field = error.field.split(".")[-1] if error.field else ""
        label = next((label for f, (label, path) in EDITABLE.items() if path[-1] == field), field)
        raise Refused(f"{label}: {error.reason}") from None
    return report.changes


def admin_message(team_key: str, team_name: str, values: dict[str, str]) -> Message:
    fields = tuple(Field_(label=EDITABLE[f][0], value=v or "—") for f, v in values.items())
    inputs = tuple(
        TextInput(input_id=f, label=EDITABLE[f][0], value=v, max_length=40)
        for f, v in values.items()
    )
    return Message(
        ref=f"admin:{team_key}",
        text=text("admin.heading", team=team_name),
        blocks=(
            Text(text=text("admin.heading", team=team_name), style="heading"),
            Fields(fields=fields),
            *inputs,
            Buttons(
                buttons=(
                    Button(
                        action_id=SAVE,
                        value=team_key,
                        label=text("admin.button.save"),
                        style="primary",
                    ),
                    Button(action_id=PREVIEW, value=team_key, label=text("admin.button.preview")),
                    Button(action_id=SEND_NOW, value=team_key, label=text("admin.button.send")),
                    Button(action_id=TEST_SEND, value=team_key, label=text("admin.button.test")),
                )
            ),
            Context(lines=(text("admin.context"),)),
        ),
    )


async def preview_message(services: Services, team_key: str, days: int) -> Message:
    rows = await preview(services, team_key, days)
    lines = tuple(
        f"{r.person}: {r.local:%a %d %b %H:%M} {r.timezone} ({r.utc:%H:%M} UTC)"
        + (f" — moved: {', '.join(r.reasons)}" if r.reasons else "")
        + (f" — skipped: {r.skipped}" if r.skipped else "")
        for r in rows
    )
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
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
    return Reply(messages=(admin_message(team_key, team.name if team else team_key, values),))


async def cmd_schedule(services: Services, event: TextEvent, args: list[str]) -> Reply:
    team_key = await _admin_team(services, event, args[:1], "schedule")
    await _require_admin(services, event.actor.person_id, team_key)
    days = int(args[1]) if len(args) > 1 and args[1].isdigit() else 14
    return Reply(messages=(await preview_message(services, team_key, min(days, 90)),))


async def on_save(services: Services, event: ActionEvent) -> Reply:
    changes = {k: v for k, v in event.inputs.items() if k in EDITABLE}
    applied = await update_program(services, event.actor.person_id, event.value, changes)
    values = await program_settings(services, event.actor.person_id, event.value)
    async with services.db.session() as session:
        team = await directory.team_by_key(session, event.value)
    note = text("admin.saved", changes="; ".join(applied)) if applied else text("admin.unchanged")
    return Reply(
        update=admin_message(event.value, team.name if team else event.value, values), notice=note
    )


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
