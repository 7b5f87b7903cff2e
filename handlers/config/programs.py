"""The `programs:` section: pulse programs per team.

    programs:
      - key: safety
        workspace: demo
        team: leadership
        instrument: team_safety
        items_per_pulse: 4            # optional; default every item every round
        rotation_rounds: 2            # optional; every item asked at least once every K rounds
        cadence: {frequency: weekly, weekday: mon, at: "09:30", spread_until: "11:30"}
        window_hours: 72
        reminders: {halfway: true, before_close_hours: 12, max: 2}
        privacy: anonymous            # or confidential
        thresholds: {respondents: 3, comments: 5}
        team_sees_results: false      # the coach always sees results
        active: true

Privacy and thresholds are locked while a round of the program is open. A changed
cadence re-plans the program's next round.
"""

from __future__ import annotations

import math
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.config.base import Changes, Flow, Ids, diff_fields, id_of, update_line
from handlers.config.fields import WEEKDAYS, FieldError
from handlers.config.program_spec import ProgramSpec, RemindersSpec
from handlers.config.schema import Config
from prompts.instruments import InstrumentError, configured_instruments
from storage.core import config_state, schedule
from storage.pulse import rounds as pulse
from storage.pulse.models import PulseProgram


def _columns(spec: ProgramSpec) -> dict[str, dict[str, Any]]:
    cadence = spec.cadence
    return {
        "instrument": {"instrument": spec.instrument},
        "items_per_pulse": {"items_per_pulse": spec.items_per_pulse},
        "rotation_rounds": {"rotation_rounds": spec.rotation_rounds},
        "cadence": {
            "frequency": cadence.frequency,
            "weekday": WEEKDAYS.index(cadence.weekday),
            "at": cadence.at,
            "spread_until": cadence.spread_until,
        },
        "window_hours": {"window_hours": spec.window_hours},
        "reminders": {"reminders": spec.reminders.model_dump()},
        "privacy": {"privacy": spec.privacy},
        "thresholds": {
            "min_respondents": spec.thresholds.respondents,
            "min_comments": spec.thresholds.comments,
        },
        "team_sees_results": {"team_sees_results": spec.team_sees_results},
        "active": {"active": spec.active},
    }


def _check_instrument(index: int, spec: ProgramSpec) -> None:
    try:
        instruments = configured_instruments()
    except InstrumentError as error:
        raise FieldError(
            ("programs", index, "instrument"), f"instruments cannot load: {error}"
        ) from None
    instrument = instruments.get(spec.instrument)
    if instrument is None:
        known = ", ".join(sorted(instruments))
        raise FieldError(
            ("programs", index, "instrument"), f"no instrument {spec.instrument!r} (known: {known})"
        )
    n_items, per = len(instrument.items), spec.items_per_pulse
    if per is not None and per > n_items:
        raise FieldError(
            ("programs", index, "items_per_pulse"),
            f"{spec.instrument} has only {n_items} items",
        )
    needed = 1 if not per or per >= n_items else math.ceil(n_items / per)
    if spec.rotation_rounds is not None and spec.rotation_rounds < needed:
        raise FieldError(
            ("programs", index, "rotation_rounds"),
            f"{per} of {n_items} items per pulse cannot ask every item within "
            f"{spec.rotation_rounds} rounds; it takes at least {needed}",
        )


async def apply_programs(session: AsyncSession, cfg: Config, ids: Ids, changes: Changes) -> None:
    for index, spec in enumerate(cfg.programs):
        workspace = await ids.workspace(session, spec.workspace)
        if workspace is None:
            raise FieldError(("programs", index, "workspace"), f"no workspace {spec.workspace!r}")
        team = await ids.team(session, workspace, spec.team)
        if team is None:
            raise FieldError(
                ("programs", index, "team"), f"no team {spec.team!r} in workspace {workspace.key}"
            )
        _check_instrument(index, spec)
        target = f"program:{workspace.key}/{team.key}/{spec.key}"
        row = await pulse.program_by_key(session, id_of(team), spec.key)
        wanted = _columns(spec)
        if row is None:
            values = {k: v for cols in wanted.values() for k, v in cols.items()}
            row = PulseProgram(team_id=id_of(team), key=spec.key, **values)
            row = await config_state.insert(session, row)
            changes.record(
                f"create program {spec.key} for {team.key}", "create_program", target, **values
            )
        else:
            columns, changed = diff_fields(row, wanted)
            if not columns:
                continue
            if {"privacy", "thresholds"} & set(changed) and (
                current := await pulse.open_round(session, row.id or 0)
            ):
                raise FieldError(
                    ("programs", index, "thresholds" if "thresholds" in changed else "privacy"),
                    f"locked while round {current.number} is open (closes "
                    f"{current.closes_at:%Y-%m-%d %H:%M} UTC); apply again after it closes",
                )
            await config_state.update(session, row, columns)
            changes.record(
                update_line(f"program {spec.key}", changed),
                "update_program",
                target,
                changed=changed,
            )
        # Let the dispatcher re-plan the next round from the (new) cadence right away.
        await schedule.set_due(session, "pulse", row.id or 0, schedule.ASAP, None)


async def export_programs(session: AsyncSession) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for program, team, workspace in await pulse.all_programs(session):
        entry: dict[str, Any] = {
            "key": program.key,
            "workspace": workspace.key,
            "team": team.key,
            "instrument": program.instrument,
        }
        if program.items_per_pulse is not None:
            entry["items_per_pulse"] = program.items_per_pulse
        if program.rotation_rounds is not None:
            entry["rotation_rounds"] = program.rotation_rounds
        cadence = Flow(
            frequency=program.frequency, weekday=WEEKDAYS[program.weekday], at=program.at
        )
        if program.spread_until:
            cadence["spread_until"] = program.spread_until
        reminders = RemindersSpec.model_validate(program.reminders or {})
        entry |= {
            "cadence": cadence,
            "window_hours": program.window_hours,
            "reminders": Flow(reminders.model_dump()),
            "privacy": program.privacy,
            "thresholds": Flow(respondents=program.min_respondents, comments=program.min_comments),
            "team_sees_results": program.team_sees_results,
            "active": program.active,
        }
        out.append(entry)
    return out
