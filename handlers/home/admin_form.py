"""The admin's program form: one control per setting (a select for fixed choices, a
number field for counts), each error beside its field, and the confirmation that says
what the settings will do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.messages import Button, Buttons, Choice, Context, Message, Text, TextInput
from prompts.texts import text

SAVE = "admin.save"
PREVIEW = "admin.preview"
SEND_NOW = "admin.send"
TEST_SEND = "admin.test"
PLACEHOLDERS = ("at", "items_per_pulse")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Setting:
    path: tuple[str, ...]  # into the program entry of the organisation file
    kind: Literal["text", "number", "select"] = "text"
    options: tuple[str, ...] = ()
    # Or into the entry of the team's workspace: a setting of the whole workspace.
    section: Literal["programs", "workspaces"] = "programs"

    def choices(self, field: str) -> tuple[Choice, ...]:
        return tuple(Choice(value=o, label=text(f"admin.option.{field}.{o}")) for o in self.options)


# Editable in chat, in the form's order.
SETTINGS: dict[str, Setting] = {
    "frequency": Setting(("cadence", "frequency"), "select", ("weekly", "biweekly", "monthly")),
    "weekday": Setting(("cadence", "weekday"), "select", WEEKDAYS),
    "at": Setting(("cadence", "at")),
    "window_hours": Setting(("window_hours",), "number"),
    "items_per_pulse": Setting(("items_per_pulse",), "number"),
    "min_respondents": Setting(("thresholds", "respondents"), "number"),
    "min_comments": Setting(("thresholds", "comments"), "number"),
    "privacy": Setting(("privacy",), "select", ("anonymous", "confidential")),
    "team_sees_results": Setting(("team_sees_results",), "select", ("true", "false")),
    "retention_months": Setting(("retention_months",), "number", section="workspaces"),
}


def label(field: str) -> str:
    return text(f"admin.field.{field}")


def admin_message(
    team_key: str,
    team_name: str,
    values: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
) -> Message:
    """The form; with `errors`, the values as submitted and each error beside its field."""
    errors = errors or {}
    inputs = []
    for field, setting in SETTINGS.items():
        inputs.append(
            TextInput(
                input_id=field,
                label=label(field),
                value=values.get(field, ""),
                placeholder=text(f"admin.placeholder.{field}") if field in PLACEHOLDERS else "",
                max_length=40,
                kind="number" if setting.kind == "number" else "text",
                options=setting.choices(field) if setting.kind == "select" else (),
                error=errors.get(field),
            )
        )
    heading = text("admin.heading", team=team_name)
    blocks: list[Any] = [Text(text=heading, style="heading")]
    if errors:
        blocks.append(Text(text=text("admin.errors", count=len(errors)), style="notice"))
    blocks += [
        *inputs,
        Buttons(
            buttons=(
                Button(
                    action_id=SAVE, value=team_key, label=text("admin.button.save"), style="primary"
                ),
                Button(action_id=PREVIEW, value=team_key, label=text("admin.button.preview")),
                Button(action_id=SEND_NOW, value=team_key, label=text("admin.button.send")),
                Button(action_id=TEST_SEND, value=team_key, label=text("admin.button.test")),
            )
        ),
        Context(lines=(text("admin.context"),)),
    ]
    return Message(ref=f"admin:{team_key}", text=heading, blocks=tuple(blocks))


def confirmation(values: Mapping[str, str], next_local: str | None, changed: Sequence[str]) -> str:
    """What the saved settings do, in plain words: "Saved. Next pulse: Monday 07 Dec,
    09:30 in each person's time zone, open 72 h, every week." """
    every = text(f"admin.every.{values.get('frequency') or 'weekly'}")
    when = next_local or text("admin.next.none")
    sees = text(f"admin.sees.{values.get('team_sees_results') or 'false'}")
    kept = ""
    if "retention_months" in changed:
        kept = " " + text("admin.saved.retention", months=values.get("retention_months") or "—")
    return (
        text(
            "admin.saved",
            changed=", ".join(text(f"admin.short.{f}") for f in changed),
            when=when,
            hours=values.get("window_hours") or "—",
            every=every,
            privacy=text(f"admin.option.privacy.{values.get('privacy') or 'anonymous'}").lower(),
            respondents=values.get("min_respondents") or "—",
            sees=sees,
        )
        + kept
    )
