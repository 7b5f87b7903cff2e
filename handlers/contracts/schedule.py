"""Contract checks on their cadence (kind "contract"): opening, closing and planning.

One schedule entry per contract, due at whichever comes first: the close of the open
check, or the earliest member's local send time of the next occurrence. Every member
gets the check at their own local time; it closes `window_hours` after the last send.
A check asks one or two norms, rotated so every norm comes round. Anonymity follows the
pulse approach: ratings are held apart under a token keyed by a per-check secret, and
sealed at close (storage/contracts/seal.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Refused
from handlers.commitments.follow_through import contract_report
from handlers.commitments.schedule import enqueue
from handlers.context import Services
from handlers.contracts.check_view import CheckLayout, check_ref
from handlers.contracts.view import results_message, status_message
from handlers.pulse.rounds import rotation
from handlers.pulse.view import local_time
from prompts.texts import text
from scheduler.calendar.fired import Fired
from scheduler.calendar.localtime import Availability, Cadence, PlannedSend, plan_occurrence
from scheduler.calendar.people import availability, person_timezone
from storage.channels import local_inbox
from storage.contracts import queries as contracts
from storage.contracts import seal
from storage.contracts.models import ContractCheck, TeamContract
from storage.core import audit, directory, outbox, schedule
from storage.core.models import Person, Role, Team
from storage.core.schedule_models import ScheduleEntry

KIND = "contract"
CATCH_UP_GRACE = timedelta(hours=12)


@dataclass(frozen=True)
class Member:
    person: Person
    availability: Availability


def cadence_of(contract: TeamContract) -> Cadence:
    return Cadence.parse(contract.frequency, contract.weekday, contract.at)


async def _members(session: AsyncSession, team: Team) -> list[Member]:
    workspace = await directory.workspace(session, team.workspace_id)
    people = await directory.members(session, team.id or 0, Role.EXECUTIVE)
    return [Member(p, availability(p, team, workspace)) for p in people]


def _plans(contract: TeamContract, members: list[Member], day: date) -> dict[int, PlannedSend]:
    cadence = cadence_of(contract)
    seed = f"contract:{contract.id}"
    return {
        m.person.id or 0: plan_occurrence(cadence, m.availability, day, f"{seed}:{m.person.id}")
        for m in members
    }


def _earliest(plans: Mapping[int, PlannedSend]) -> datetime | None:
    live = [p.utc for p in plans.values() if p.skipped is None]
    return min(live) if live else None


def _next(
    contract: TeamContract, members: list[Member], after: date, now: datetime
) -> tuple[date, datetime] | None:
    day = after
    for _ in range(60):
        day = cadence_of(contract).next_occurrence(day)
        earliest = _earliest(_plans(contract, members, day))
        if earliest is not None and earliest >= now:
            return day, earliest
    return None


async def plan_in(session: AsyncSession, now: datetime, contract: TeamContract) -> None:
    """(Re)plan the contract's entry inside the caller's transaction (never from inside a
    dispatcher pass: the dispatcher holds the entry's row)."""
    found = None
    if contract.active and contract.current_version:
        team = await directory.team(session, contract.team_id)
        assert team is not None
        found = _next(contract, await _members(session, team), now.date() - timedelta(days=2), now)
    current = await contracts.open_check(session, contract.id or 0)
    times = [t for t in (found[1] if found else None, current.closes_at if current else None) if t]
    day = found[0].isoformat() if found else None
    await schedule.set_due(session, KIND, contract.id or 0, min(times) if times else None, day)


async def open_check(
    services: Services,
    team_id: int,
    *,
    occurrence: str | None = None,
    send_at: Mapping[int, datetime] | None = None,
    requested_by: int | None = None,
) -> tuple[ContractCheck, int]:
    """Open a check (one transaction: the check, its key, invites and messages). A
    scheduled `occurrence` opens at most one check. Returns the check and how many were
    asked (0: it had been opened before)."""
    now = services.clock.now()
    send_at = send_at or {}
    async with services.db.session() as session:
        team = await directory.team(session, team_id)
        contract = await contracts.for_team(session, team_id)
        assert team is not None
        version = await contracts.current_version(session, contract) if contract else None
        if contract is None or version is None:
            raise Refused(text("contract.refused.no_contract", team=team.name))
        if occurrence and (
            done := await contracts.check_for_occurrence(session, contract.id or 0, occurrence)
        ):
            return done, 0
        if current := await contracts.open_check(session, contract.id or 0):
            raise Refused(text("contract.refused.open", team=team.name, number=current.number))
        workspace = await directory.workspace(session, team.workspace_id)
        people = await directory.members(session, team_id, Role.EXECUTIVE)
        if occurrence is not None:
            people = [p for p in people if (p.id or 0) in send_at]
        invitees = [
            p
            for p in people
            if not (p.snoozed_until and p.snoozed_until > now)
            and not (p.leave_from and p.leave_until and p.leave_from <= now.date() <= p.leave_until)
        ]
        if not invitees:
            raise Refused(text("contract.refused.nobody", team=team.name))
        number = await contracts.next_number(session, contract.id or 0)
        keys = rotation([n["key"] for n in version.norms], contract.norms_per_check, number)
        times = {p.id or 0: max(send_at.get(p.id or 0, now), now) for p in invitees}
        check = await contracts.create_check(
            session,
            ContractCheck(
                contract_id=contract.id or 0,
                team_id=team_id,
                version_id=version.id or 0,
                number=number,
                occurrence=occurrence,
                norm_keys=keys,
                privacy=contract.privacy,
                min_respondents=contract.min_respondents,
                min_comments=contract.min_comments,
                opened_at=now,
                closes_at=max(times.values()) + timedelta(hours=contract.window_hours),
            ),
            list(times),
        )
        norms = [n for n in version.norms if n["key"] in keys]
        for person in invitees:
            tz = person_timezone(person, team, workspace)
            message = CheckLayout(check, team.name, norms, tz, person.locale).message({})
            key = f"contract-check:{check.id}:invite:{person.id}"
            pid = person.id or 0
            await enqueue(session, key, pid, "contract-check", message, times[pid], check.closes_at)
        audit.record(
            session,
            f"person:{requested_by}" if requested_by else "scheduler",
            "contract.check.open",
            f"team:{team.key}",
            check=check.id,
            invited=len(invitees),
        )
        if occurrence is None:  # a manual check: make sure the scheduler closes it
            await plan_in(session, now, contract)
        return check, len(invitees)


async def close_check(services: Services, check_id: int, actor: str = "scheduler") -> str:
    """Close: seal the ratings and destroy the key (storage/contracts/seal.py), cancel
    late messages, replace everyone's copy of the check, then send the results to the
    coach (and the team, where the contract shares them), and scrub the database of
    what the open check left in its files. All of it here, whether or not a sender is
    running: the local chat's copies of the check (whose versions and update times
    counted each person's saves) go in the close's transaction; the outbox then
    delivers the closing note as a new message."""
    now = services.clock.now()
    async with services.db.session() as session:
        check = await contracts.check(session, check_id)
        if check is None or check.status != "open":
            raise Refused(text("contract.refused.check_not_open", number=check_id))
        team = await directory.team(session, check.team_id)
        contract = await contracts.get(session, check.contract_id)
        assert team is not None and contract is not None
        workspace = await directory.workspace(session, team.workspace_id)
        await contracts.close_check(session, check, now)
        await outbox.cancel_pending(session, f"contract-check:{check_id}:", "the check closed")
        invites = await contracts.invites(session, check_id)
        await local_inbox.remove(session, [i.person_id for i in invites], check_ref(check_id))
        answered = sum(1 for i in invites if i.answered)
        for invite in invites:
            person = await directory.person(session, invite.person_id)
            assert person is not None
            closed_at = local_time(now, person_timezone(person, team, workspace))
            note = text(
                "contract.check.closed",
                person.locale,
                closed=closed_at,
                answered=answered,
                invited=len(invites),
            )
            key = f"contract-check-closed:{check_id}:{person.id}"
            await enqueue(
                session,
                key,
                invite.person_id,
                "contract-closed",
                status_message(check_id, note),
                now,
            )
        audit.record(session, actor, "contract.check.close", f"team:{team.key}", check=check_id)
        readers = await directory.members(session, team.id or 0, Role.COACH)
        if contract.team_sees_results:
            readers += await directory.members(session, team.id or 0, Role.EXECUTIVE)
    report = await contract_report(services, team.id or 0)
    results = results_message(team.key, team.name, report.results, report.comments)
    async with services.db.session() as session:
        for person in {p.id: p for p in readers}.values():
            key = f"contract-results:{check_id}:{person.id}"
            await enqueue(session, key, person.id or 0, "contract-results", results, now)
    await services.db.scrub(seal.SPEC.rewritten, seal.SPEC.vacuumed)
    return text(
        "contract.check.closed_notice",
        number=check.number,
        team=team.name,
        answered=answered,
        invited=len(invites),
    )


async def fire(services: Services, entry: ScheduleEntry, now: datetime) -> Fired:
    """Close what is due, open the occurrence when its first send time has come, and
    report the next instant: the open check's close or the next occurrence."""
    async with services.db.session() as session:
        contract = await contracts.get(session, entry.subject_id)
        if contract is None or not contract.active or not contract.current_version:
            return Fired("no active contract", None, None)
        team = await directory.team(session, contract.team_id)
        assert team is not None
        members = await _members(session, team)
        due = await contracts.checks_due_to_close(session, contract.id or 0, now)
    outcomes = [await close_check(services, c.id or 0) for c in due]
    found: tuple[date, datetime] | None = None
    if entry.occurrence is None:
        found = _next(contract, members, now.date() - timedelta(days=2), now)
    else:
        day = date.fromisoformat(entry.occurrence)
        plans = _plans(contract, members, day)
        earliest = _earliest(plans)
        if earliest is not None and now < earliest:
            found = (day, earliest)  # woken for a close: the occurrence is still ahead
        else:
            outcomes.append(await _open_occurrence(services, team, day, plans, earliest, now))
            found = _next(contract, members, day, now)
    async with services.db.session() as session:
        current = await contracts.open_check(session, contract.id or 0)
    times = [t for t in (found[1] if found else None, current.closes_at if current else None) if t]
    return Fired(
        "; ".join(outcomes) or "planned",
        min(times) if times else None,
        found[0].isoformat() if found else None,
    )


async def _open_occurrence(
    services: Services,
    team: Team,
    day: date,
    plans: Mapping[int, PlannedSend],
    earliest: datetime | None,
    now: datetime,
) -> str:
    if earliest is None:
        return f"{day}: nobody to ask"
    if now - earliest > CATCH_UP_GRACE:
        async with services.db.session() as session:
            audit.record(
                session, "scheduler", "contract.check.missed", f"team:{team.key}", day=str(day)
            )
        return f"{day}: missed (due {earliest:%Y-%m-%d %H:%M} UTC)"
    try:
        check, asked = await open_check(
            services,
            team.id or 0,
            occurrence=day.isoformat(),
            send_at={pid: p.utc for pid, p in plans.items() if p.skipped is None},
        )
    except Refused as refused:
        return f"{day}: not opened: {refused}"
    return f"{day}: check {check.number} " + ("opened" if asked else "already open")
