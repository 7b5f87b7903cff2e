"""Coaching sessions in chat: `session [TEAM]` lists the next ones,
`session add [TEAM] YYYY-MM-DD HH:MM` adds one (in the speaker's own time zone) and
`session cancel [TEAM] YYYY-MM-DD` cancels the sessions of that day, one-off or
recurring. Coaches and admins of the team only. Every change asks the dispatcher to
re-plan the team's digests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.core.events import Refused, Reply, TextEvent
from handlers.context import Services
from handlers.digests import period as digest_period
from prompts.texts import text
from scheduler.calendar.localtime import ScheduleError, local_instant, parse_wall_time
from scheduler.calendar.people import person_timezone
from storage.core import directory
from storage.core.models import Team
from storage.digests import queries as digests

PLANNERS = ("coach", "admin")


def _split(args: list[str]) -> tuple[str, str | None, list[str]]:
    """(verb, team key or None, the rest)."""
    verb = args[0].lower() if args and args[0].lower() in ("add", "cancel", "list") else "list"
    rest = args[1:] if args and args[0].lower() == verb else args
    if rest and not rest[0][:1].isdigit():
        return verb, rest[0], rest[1:]
    return verb, None, rest


async def _team(services: Services, person_id: int, key: str | None, planning: bool) -> Team:
    async with services.db.session() as session:
        mine = await directory.roles_of(session, person_id)
    roles = PLANNERS if planning else (*PLANNERS, "executive", "sponsor")
    teams = {t.key: t for t, role in mine if role in roles}
    if key is None and len(teams) == 1:
        return next(iter(teams.values()))
    if key is None:
        raise Refused(text("digest.session.usage"))
    if key not in teams:
        raise Refused(text("digest.session.not_allowed", team=key))
    return teams[key]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused(text("digest.session.usage")) from None


async def cmd_session(services: Services, event: TextEvent, args: list[str]) -> Reply:
    verb, key, rest = _split(args)
    person_id = event.actor.person_id
    team = await _team(services, person_id, key, planning=verb != "list")
    assert team.id is not None
    now = services.clock.now()
    async with services.db.session() as session:
        person = await directory.person(session, person_id)
        workspace = await directory.workspace(session, team.workspace_id)
        assert person is not None
        tz = person_timezone(person, team, workspace)
        times = await digest_period.session_times(session, team, workspace, now)

        def shown(at: datetime) -> str:
            return f"{at.astimezone(tz):%a %d %b %Y %H:%M} ({tz.key})"

        if verb == "list":
            upcoming = times.upcoming(now)[:6]
            if not upcoming:
                return Reply(notice=text("digest.session.none", team=team.name))
            lines = "\n".join(f"• {shown(at)}" for at in upcoming)
            return Reply(notice=f"{text('digest.session.list', team=team.name)}:\n{lines}")
        if not rest or (verb == "add" and len(rest) < 2):
            raise Refused(text("digest.session.usage"))
        day = _date(rest[0])
        if verb == "add":
            try:
                at, _ = local_instant(day, parse_wall_time(rest[1]), tz)
            except ScheduleError:
                raise Refused(text("digest.session.usage")) from None
            if at <= now:
                raise Refused(text("digest.session.past"))
            if at in times.instants:
                raise Refused(text("digest.session.exists", team=team.name, when=shown(at)))
            await digests.add_session(session, team.id, at, "chat")
            await digests.plan_soon(session, team.id)
            hours = int(times.lead.total_seconds() // 3600)
            return Reply(
                notice=text("digest.session.added", team=team.name, when=shown(at), lead=hours)
            )
        start, _ = local_instant(day, time(0, 0), tz)
        on_day = [t for t in times.instants if start <= t < start + timedelta(days=1)]
        if not on_day:
            raise Refused(text("digest.session.not_found", team=team.name, day=day.isoformat()))
        for at in on_day:
            row, _ = await digests.add_session(session, team.id, at, "chat")
            await digests.cancel_session(session, row)
        await digests.plan_soon(session, team.id)
    when = ", ".join(shown(at) for at in on_day)
    return Reply(notice=text("digest.session.cancelled", team=team.name, when=when))
