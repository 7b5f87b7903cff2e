"""The `sessions:` section: coaching sessions per team, and when coach digests go out.

    sessions:
      - workspace: demo
        team: leadership
        timezone: Europe/Amsterdam        # optional; default: the team's, then the workspace's
        every: {frequency: biweekly, weekday: thu, at: "15:00", anchor: 2026-11-26}
        dates: ["2026-12-17 10:00"]       # one-off sessions, local to that zone
        digest_lead_hours: 24             # the digest goes to each coach this long before
        weekly_digest: {weekday: mon, at: "08:00"}   # optional; null for none

One entry per team. Fields left out keep their stored values. `dates`, when given, is
the exact list of the team's config sessions (sessions added in chat are kept); a
recurring occurrence can be skipped with `session cancel` in chat. Every change asks
the dispatcher to re-plan the team's digests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.config.base import Changes, Flow, Ids, id_of, update_if_changed
from handlers.config.fields import WEEKDAYS, FieldError
from handlers.config.schema import Config
from handlers.config.session_spec import SessionsSpec
from handlers.digests.period import plan_zone
from scheduler.calendar.localtime import local_instant
from storage.core import config_state
from storage.core.models import Team, Workspace
from storage.digests import queries as digests
from storage.digests.models import CoachingPlan


def _columns(spec: SessionsSpec, creating: bool) -> dict[str, dict[str, Any]]:
    rule, weekly = spec.every, spec.weekly_digest
    every: dict[str, dict[str, Any]] = {
        "timezone": {"timezone": spec.timezone},
        "every": {
            "frequency": rule.frequency if rule else None,
            "weekday": WEEKDAYS.index(rule.weekday) if rule else None,
            "at": rule.at if rule else None,
            "anchor": rule.anchor if rule else None,
        },
        "digest_lead_hours": {"lead_hours": spec.digest_lead_hours},
        "weekly_digest": {
            "weekly_weekday": WEEKDAYS.index(weekly.weekday) if weekly else None,
            "weekly_at": weekly.at if weekly else None,
        },
    }
    given = spec.model_fields_set
    return {name: cols for name, cols in every.items() if creating or name in given}


def _instant(value: datetime, plan: CoachingPlan, team: Team, workspace: Workspace) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    tz = plan_zone(plan, team, workspace)
    return local_instant(value.date(), value.time().replace(second=0, microsecond=0), tz)[0]


async def _sync_dates(
    session: AsyncSession,
    spec: SessionsSpec,
    plan: CoachingPlan,
    team: Team,
    workspace: Workspace,
    changes: Changes,
    target: str,
) -> bool:
    wanted = {_instant(value, plan, team, workspace) for value in spec.dates}
    stored = await digests.sessions_of(session, id_of(team), source="config")
    have = {row.starts_at for row in stored}
    changed = False
    for row in stored:
        if row.starts_at not in wanted:
            await digests.cancel_session(session, row)
            changes.record(
                f"remove session {row.starts_at:%Y-%m-%d %H:%M} UTC for {team.key}",
                "remove_session",
                target,
                starts_at=row.starts_at,
            )
            changed = True
    for at in sorted(wanted - have):
        _, added = await digests.add_session(session, id_of(team), at, "config")
        if added:
            changes.record(
                f"add session {at:%Y-%m-%d %H:%M} UTC for {team.key}",
                "add_session",
                target,
                starts_at=at,
            )
            changed = True
    return changed


async def apply_sessions(session: AsyncSession, cfg: Config, ids: Ids, changes: Changes) -> None:
    seen: set[tuple[str, str]] = set()
    for index, spec in enumerate(cfg.sessions):
        if (spec.workspace, spec.team) in seen:
            raise FieldError(("sessions", index, "team"), f"{spec.team!r} is listed twice")
        seen.add((spec.workspace, spec.team))
        workspace = await ids.workspace(session, spec.workspace)
        if workspace is None:
            raise FieldError(("sessions", index, "workspace"), f"no workspace {spec.workspace!r}")
        team = await ids.team(session, workspace, spec.team)
        if team is None:
            raise FieldError(
                ("sessions", index, "team"), f"no team {spec.team!r} in workspace {workspace.key}"
            )
        target = f"sessions:{workspace.key}/{team.key}"
        plan = await digests.plan_for(session, id_of(team))
        wanted = _columns(spec, creating=plan is None)
        changed = False
        if plan is None:
            values = {k: v for cols in wanted.values() for k, v in cols.items()}
            plan = await config_state.insert(session, CoachingPlan(team_id=id_of(team), **values))
            changes.record(f"create sessions for {team.key}", "create_sessions", target, **values)
            changed = True
        else:
            if await update_if_changed(
                session,
                changes,
                plan,
                wanted,
                what=f"sessions of {team.key}",
                action="update_sessions",
                target=target,
            ):
                changed = True
        if "dates" in spec.model_fields_set or changed:
            changed |= await _sync_dates(session, spec, plan, team, workspace, changes, target)
        if changed:
            await digests.plan_soon(session, id_of(team))


async def export_sessions(session: AsyncSession) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for team, workspace in await config_state.all_teams(session):
        plan = await digests.plan_for(session, id_of(team))
        if plan is None:
            continue
        tz = plan_zone(plan, team, workspace)
        entry: dict[str, Any] = {"workspace": workspace.key, "team": team.key}
        if plan.timezone is not None:
            entry["timezone"] = plan.timezone
        if plan.frequency and plan.weekday is not None and plan.at:
            every = Flow(frequency=plan.frequency, weekday=WEEKDAYS[plan.weekday], at=plan.at)
            if plan.anchor is not None:
                every["anchor"] = plan.anchor
            entry["every"] = every
        rows = await digests.sessions_of(session, id_of(team), source="config")
        entry["dates"] = [f"{row.starts_at.astimezone(tz):%Y-%m-%d %H:%M}" for row in rows]
        entry["digest_lead_hours"] = plan.lead_hours
        if plan.weekly_weekday is not None and plan.weekly_at:
            entry["weekly_digest"] = Flow(weekday=WEEKDAYS[plan.weekly_weekday], at=plan.weekly_at)
        out.append(entry)
    return out
