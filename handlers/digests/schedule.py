"""Schedule kind "digest": one entry per team, due at the next of
- `lead` before each coaching session (default 24 h), for the session's digest, and
- the plan's weekly digest time (local wall time in the plan's zone), when set.

The occurrence names what is due: ``s:<session UTC>`` or ``w:<weekly UTC>``. Firing
sends that digest (once per coach and occasion, see `handlers/digest_send.py`) and
moves the entry to the next one. A session digest found after its session has started,
or a weekly digest found more than 12 hours late, is recorded as missed, not sent.
Config apply and chat only mark the entry due now (`storage.digests.queries.plan_soon`); the
first pass then plans it with the dispatcher's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.events import Refused
from handlers.context import Services
from handlers.digests import period as digest_period
from handlers.digests.send import DigestOptions, configured, send_digest
from scheduler.calendar.fired import Fired
from scheduler.calendar.localtime import Cadence, local_instant
from storage.core import directory, schedule
from storage.core.models import Team
from storage.core.schedule_models import ScheduleEntry
from storage.digests import queries as digests

KIND = digests.KIND
CATCH_UP_GRACE = timedelta(hours=12)
_FORMAT = "%Y-%m-%dT%H:%MZ"


def occurrence(prefix: str, at: datetime) -> str:
    return f"{prefix}:{at.astimezone(UTC):{_FORMAT}}"


def parse_occurrence(value: str) -> tuple[str, datetime]:
    prefix, _, stamp = value.partition(":")
    return prefix, datetime.strptime(stamp, _FORMAT).replace(tzinfo=UTC)


def session_occasion(at: datetime, team_id: int) -> str:
    """The team is part of the occasion: a coach of two teams gets both teams' digests
    (the digest row is unique per coach and occasion)."""
    return f"session:{at.astimezone(UTC):{_FORMAT}}:t{team_id}"


def _untagged(at: datetime) -> str:
    """The occasion of a session digest stored before occasions named their team."""
    return f"session:{at.astimezone(UTC):{_FORMAT}}"


def weekly_occasion(at: datetime, team_id: int) -> str:
    return f"weekly:{at.astimezone(UTC):{_FORMAT}}:t{team_id}"


def _next_weekly(times: digest_period.SessionTimes, after: datetime) -> datetime | None:
    plan = times.plan
    if plan is None or plan.weekly_weekday is None or not plan.weekly_at:
        return None
    cadence = Cadence.parse("weekly", plan.weekly_weekday, plan.weekly_at)
    day = after.astimezone(times.tz).date() - timedelta(days=8)
    for _ in range(4):
        day = cadence.next_occurrence(day)
        at, _reason = local_instant(day, cadence.at, times.tz)
        if at > after:
            return at
    return None


async def next_due(
    services: Services, team: Team, now: datetime, skip: frozenset[str] = frozenset()
) -> tuple[datetime, str] | None:
    """The team's next digest: the first upcoming session without a digest yet (due
    `lead` before it, or now if that has passed) or the weekly one, whichever is first."""
    assert team.id is not None
    async with services.db.session() as session:
        workspace = await directory.workspace(session, team.workspace_id)
        times = await digest_period.session_times(session, team, workspace, now)
        upcoming = times.upcoming(now)[:10]
        done = await digests.occasions_sent(
            session,
            team.id,
            [o for at in upcoming for o in (session_occasion(at, team.id), _untagged(at))],
        )
    candidates: list[tuple[datetime, str]] = []
    done |= skip
    pending = next(
        (
            at
            for at in upcoming
            if session_occasion(at, team.id) not in done and _untagged(at) not in done
        ),
        None,
    )
    if pending is not None:
        candidates.append((max(pending - times.lead, now), occurrence("s", pending)))
    weekly = _next_weekly(times, now)
    if weekly is not None:
        candidates.append((weekly, occurrence("w", weekly)))
    return min(candidates) if candidates else None


async def reschedule(services: Services, team_id: int) -> ScheduleEntry:
    now = services.clock.now()
    async with services.db.session() as session:
        team = await directory.team(session, team_id)
    found = await next_due(services, team, now) if team else None
    async with services.db.session() as session:
        due, occ = found if found else (None, None)
        return await schedule.set_due(session, KIND, team_id, due, occ)


async def reschedule_all(services: Services) -> int:
    """Plan every team with sessions that has no digest planned (e.g. at start)."""
    async with services.db.session() as session:
        teams = await digests.teams_with_sessions(session)
        planned = {e.subject_id for e in await schedule.entries(session, KIND) if e.due_at}
    todo = sorted(teams - planned)
    for team_id in todo:
        await reschedule(services, team_id)
    return len(todo)


async def _send(
    services: Services, team: Team, entry: ScheduleEntry, now: datetime, options: DigestOptions
) -> str:
    assert entry.occurrence is not None
    prefix, at = parse_occurrence(entry.occurrence)
    if prefix == "s":
        async with services.db.session() as session:
            workspace = await directory.workspace(session, team.workspace_id)
            times = await digest_period.session_times(session, team, workspace, now)
        if at not in times.instants:
            return f"session {at:%Y-%m-%d %H:%M} UTC is no longer planned"
        if now >= at:
            return f"missed: session {at:%Y-%m-%d %H:%M} UTC had started when found"
        reason, occasion = "session", session_occasion(at, team.id or 0)
    else:
        if now - at > CATCH_UP_GRACE:
            return f"missed: weekly digest due {at:%Y-%m-%d %H:%M} UTC found at {now:%H:%M}"
        reason, occasion = "weekly", weekly_occasion(at, team.id or 0)
    try:
        sent = await send_digest(
            services,
            team.key,
            reason=reason,  # type: ignore[arg-type]
            occasion=occasion,
            options=options,
            session_at=at if prefix == "s" else None,
        )
    except Refused as refused:
        return f"{occasion}: not sent: {refused}"
    new = [s for s in sent if s.created]
    sources = ", ".join(sorted({s.source for s in new})) or "none new"
    return f"{occasion}: {len(new)} sent ({sources}), {len(sent) - len(new)} already sent"


async def fire(
    services: Services, entry: ScheduleEntry, now: datetime, options: DigestOptions | None = None
) -> Fired:
    """`options`: the app's own (summarizer, public URL) unless a caller overrides them."""
    options = options or configured(services)
    async with services.db.session() as session:
        team = await directory.team(session, entry.subject_id)
    if team is None:
        return Fired("team no longer exists", None, None)
    outcome, skip = "planned", frozenset[str]()
    if entry.occurrence is not None:
        outcome = await _send(services, team, entry, now, options)
        prefix, at = parse_occurrence(entry.occurrence)
        # Not sent (no coach, no program): don't retry this session at once.
        skip = frozenset({session_occasion(at, team.id or 0)}) if prefix == "s" else frozenset()
    found = await next_due(services, team, now, skip)
    if found is None:
        return Fired(outcome, None, None)
    return Fired(outcome, found[0], found[1])
