"""Pulse surveys in chat: answering, commenting, skipping, snoozing, and the
commands to open, close and read rounds."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import ActionEvent, Refused, Reply, TextEvent
from handlers.context import ActionHandler, CommandHandler, Services, no_team, which_team
from handlers.pulse.answers import Invitee, RoundSnapshot
from handlers.pulse.close import close_team_round
from handlers.pulse.results import ensure_can_see, results_message, team_results
from handlers.pulse.rounds import RoundOpened, open_round, team_and_program
from handlers.pulse.view import (
    ANSWER,
    COMMENT_INPUT,
    COMMENT_MAX,
    OPEN,
    RESUME,
    SKIP,
    SNOOZE,
    SUBMIT,
    status_message,
)
from prompts.texts import text
from storage.core import directory, outbox
from storage.core.models import Person, Role
from storage.pulse import answers as pulse_answers
from storage.pulse import rounds as pulse
from storage.pulse.models import PulseInvite, PulseRound

SNOOZE_DAYS = 14


async def _round_for(
    session: AsyncSession, event: ActionEvent, round_id: int
) -> tuple[PulseRound, PulseInvite, Person]:
    """The round and this person's invite; refuses forged, foreign and late clicks."""
    round_ = await session.get(PulseRound, round_id)
    person = await directory.person(session, event.actor.person_id)
    invite = await pulse.invite_for(session, round_id, event.actor.person_id) if round_ else None
    if round_ is None or invite is None or person is None:
        raise Refused(text("pulse.refused.not_invited"))
    if round_.status != "open":
        raise Refused(text("pulse.closed.refused", person.locale))
    return round_, invite, person


def _round_id(value: str) -> int:
    try:
        return int(value.split(":", 1)[0])
    except ValueError:
        raise Refused(text("pulse.refused.unreadable")) from None


async def on_answer(services: Services, event: ActionEvent) -> Reply:
    """One answer by itself (API clients; the form submits all at once): checked
    against the round's snapshot, stored with the next group commit
    (handlers/pulse/answers.py); the kept message shows progress only."""
    parts = event.value.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].lstrip("-").isdigit():
        raise Refused(text("pulse.refused.unreadable"))
    round_id, item_key, score = int(parts[0]), parts[1], int(parts[2])
    person_id = event.actor.person_id
    snapshot, invitee = await _snapshot_for(services, round_id, person_id)
    if item_key not in snapshot.round.item_keys:
        raise Refused(text("pulse.refused.item"))
    _check_scale(snapshot, score)
    respondent = snapshot.respondent(person_id)
    if respondent is None:
        raise Refused(text("pulse.closed.refused", invitee.locale))
    mine, _ = await services.answers.store(snapshot, person_id, respondent, item_key, score)
    return Reply(update=snapshot.layout(invitee).message(mine))


async def _snapshot_for(
    services: Services, round_id: int, person_id: int
) -> tuple[RoundSnapshot, Invitee]:
    """The open round's snapshot and this person's place in it; refuses forged,
    foreign and late clicks."""
    snapshot = await services.answers.snapshot(round_id)
    invitee = snapshot.invitees.get(person_id) if snapshot else None
    if snapshot is None or invitee is None:
        raise Refused(text("pulse.refused.not_invited"))
    if snapshot.round.status != "open":
        raise Refused(text("pulse.closed.refused", invitee.locale))
    return snapshot, invitee


def _check_scale(snapshot: RoundSnapshot, score: int) -> None:
    scale = snapshot.instrument.scale
    if not scale.min <= score <= scale.max:
        raise Refused(text("pulse.refused.scale", min=scale.min, max=scale.max, score=score))


async def on_open(services: Services, event: ActionEvent) -> Reply:
    """The Answer button: the person's private form, read from the open round."""
    round_id = _round_id(event.value)
    snapshot, invitee = await _snapshot_for(services, round_id, event.actor.person_id)
    respondent = snapshot.respondent(event.actor.person_id)
    if respondent is None:
        raise Refused(text("pulse.closed.refused", invitee.locale))
    async with services.db.session() as session:
        mine = await pulse.answers_of(session, round_id, respondent)
        comment = await pulse.comment_of(session, round_id, respondent)
    return Reply(form=snapshot.layout(invitee).form(mine, comment))


def _form_answers(snapshot: RoundSnapshot, inputs: dict[str, str]) -> dict[str, int]:
    """The chosen scores by item; an empty choice is left unanswered."""
    answers: dict[str, int] = {}
    for field, raw in inputs.items():
        if field == COMMENT_INPUT:
            continue
        if field not in snapshot.round.item_keys:
            raise Refused(text("pulse.refused.input", field=field))
        chosen = raw.strip()
        if not chosen:
            continue
        if not chosen.lstrip("-").isdigit():
            raise Refused(text("pulse.refused.unreadable"))
        _check_scale(snapshot, int(chosen))
        answers[field] = int(chosen)
    return answers


async def on_submit(services: Services, event: ActionEvent) -> Reply:
    """The private form, submitted: every answer and the comment in one transaction.
    The kept message is updated to the person's progress, and no notice is stored
    (a per-person "saved" note would mark who answered when)."""
    round_id = _round_id(event.value)
    person_id = event.actor.person_id
    snapshot, invitee = await _snapshot_for(services, round_id, person_id)
    answers = _form_answers(snapshot, event.inputs)
    comment = event.inputs.get(COMMENT_INPUT, "").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        raise Refused(text("pulse.comment.too_long", max=COMMENT_MAX, length=len(comment)))
    respondent = snapshot.respondent(person_id)
    if respondent is None:
        raise Refused(text("pulse.closed.refused", invitee.locale))
    nudges = f"pulse:{round_id}:remind:{person_id}:"
    saved = await services.db.transact(
        lambda connection: pulse_answers.store_form(
            connection,
            round_id,
            person_id,
            respondent,
            answers,
            comment,
            nudges,
            with_comment=COMMENT_INPUT in event.inputs,
        )
    )
    if saved is None:
        services.answers.forget(round_id)
        raise Refused(text("pulse.closed.refused", invitee.locale))
    if not (answers or comment or saved.comment_changed):  # wrote nothing
        raise Refused(text("pulse.form.empty", invitee.locale))
    if saved.answers or saved.comment:
        snapshot.answered.add(person_id)
    return Reply(update=snapshot.layout(invitee).message(saved.answers))


async def kept_answers(session: AsyncSession, round_: PulseRound, person: Person) -> int:
    """How many answers this person gave in the round: Skip and Snooze keep them (they
    count in the team's results like anyone's), and say so."""
    respondent = await pulse.respondent_token(session, round_, person.id or 0)
    return len(await pulse.answers_of(session, round_.id or 0, respondent)) if respondent else 0


def _kept_note(kept: int, total: int, locale: str) -> str:
    return text("pulse.kept", locale, kept=kept, total=total) if kept else ""


async def on_skip(services: Services, event: ActionEvent) -> Reply:
    round_id = _round_id(event.value)
    async with services.db.session() as session:
        round_, invite, person = await _round_for(session, event, round_id)
        kept = await kept_answers(session, round_, person)
        invite.skipped = True
        session.add(invite)
        await outbox.cancel_pending(session, f"pulse:{round_id}:remind:{person.id}:", "skipped")
    key = "pulse.skipped.rest" if kept else "pulse.skipped"
    note = text(key, person.locale) + _kept_note(kept, len(round_.item_keys), person.locale)
    return Reply(update=status_message(round_id, note))


async def on_snooze(services: Services, event: ActionEvent) -> Reply:
    round_id = _round_id(event.value)
    until = services.clock.now() + timedelta(days=SNOOZE_DAYS)
    async with services.db.session() as session:
        round_, invite, person = await _round_for(session, event, round_id)
        kept = await kept_answers(session, round_, person)
        invite.skipped = True
        person.snoozed_until = until
        session.add_all([invite, person])
        await outbox.cancel_pending(session, f"pulse:{round_id}:remind:{person.id}:", "snoozed")
    note = text("pulse.snoozed", person.locale, until=f"{until:%a %d %b}")
    note += _kept_note(kept, len(round_.item_keys), person.locale)
    return Reply(update=status_message(round_id, note))


async def _resume(services: Services, person_id: int, program_id: int | None) -> str:
    async with services.db.session() as session:
        person = await directory.person(session, person_id)
        assert person is not None
        resumed = []
        for team, _role in await directory.roles_of(session, person_id):
            for program in await pulse.programs_for_team(session, team.id or 0):
                if program_id is not None and program.id != program_id:
                    continue
                state = await pulse.participant(session, program.id or 0, person_id)
                if state.paused_at is not None:
                    state.paused_at, state.unanswered_streak = None, 0
                    session.add(state)
                    resumed.append(team.name)
        was_snoozed = person.snoozed_until is not None
        person.snoozed_until = None
        session.add(person)
    if not resumed and not was_snoozed:
        return text("pulse.resume.none")
    return text("pulse.resumed", team=", ".join(resumed) or "your teams")


async def on_resume(services: Services, event: ActionEvent) -> Reply:
    program_id = int(event.value) if event.value.isdigit() else None
    return Reply(notice=await _resume(services, event.actor.person_id, program_id))


async def _team_for(
    services: Services, event: TextEvent, args: list[str], roles: set[str], command: str
) -> str:
    """The team named in the command, else the person's only team with one of `roles`."""
    async with services.db.session() as session:
        mine = await directory.roles_of(session, event.actor.person_id)
    if args:
        return args[0]
    keys = sorted({team.key for team, role in mine if role in roles})
    every = sorted({team.key for team, _ in mine})
    if len(keys) == 1:
        return keys[0]
    if not keys and len(every) == 1:  # not theirs to do: the refusal says who can
        return every[0]
    raise which_team(command, keys or every)


async def _roles_in(services: Services, person_id: int, team_key: str) -> set[str]:
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        if team is None:
            raise no_team(team_key)
        return {role for t, role in await directory.roles_of(session, person_id) if t.id == team.id}


async def _team_sees_results(services: Services, team_key: str) -> bool:
    async with services.db.session() as session:
        _, program = await team_and_program(session, team_key, None)
    return program.team_sees_results


async def _admins_only(services: Services, team_key: str, verb: str) -> str:
    """Why not, and whom to ask instead."""
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        assert team is not None
        admins = await directory.members(session, team.id or 0, Role.ADMIN)
    who = ", ".join(a.name for a in admins) or text("pulse.refused.admin_fallback")
    return text(f"pulse.refused.admin_only.{verb}", team=team.name, admins=who)


async def cmd_results(services: Services, event: TextEvent, args: list[str]) -> Reply:
    team_key = await _team_for(services, event, args, {"coach", "executive", "sponsor"}, "results")
    roles = await _roles_in(services, event.actor.person_id, team_key)
    ensure_can_see(roles, await _team_sees_results(services, team_key))
    return Reply(messages=(results_message(await team_results(services, team_key)),))


async def cmd_pulse(services: Services, event: TextEvent, args: list[str]) -> Reply:
    """Admin verbs: `pulse send TEAM`, `pulse test TEAM`, `pulse close TEAM`."""
    verb = args[0].lower() if args else ""
    if verb not in ("send", "test", "close"):
        raise Refused(text("pulse.refused.verb"))
    team_key = await _team_for(services, event, args[1:], {"admin"}, f"pulse {verb}")
    roles = await _roles_in(services, event.actor.person_id, team_key)
    if "admin" not in roles:
        raise Refused(await _admins_only(services, team_key, verb))
    actor = f"person:{event.actor.person_id}"
    if verb == "close":
        closed = await close_team_round(services, team_key, actor)
        return Reply(
            notice=text(
                "pulse.closed.confirm",
                team=team_key,
                answered=closed.answered,
                invited=closed.invited,
            )
        )
    kind = "test" if verb == "test" else "manual"
    opened = await open_round(services, team_key, kind=kind, requested_by=event.actor.person_id)
    if kind == "test":
        return Reply(notice=text("pulse.test.confirm"))
    return Reply(notice=sent_confirmation(opened, services.clock.now()))


def sent_confirmation(opened: RoundOpened, now: datetime) -> str:
    """Who gets the pulse now and who later, at their local time: "Pulse sent to 6
    people in leadership: 4 now, 2 at 09:00 their time (Mon)." """
    now_count = len(opened.invited) - len(opened.later)
    parts = [text("pulse.sent.now", count=now_count)] if now_count else []
    groups: dict[str, int] = {}
    for local in opened.later.values():
        today = now.astimezone(local.tzinfo).date()
        at = f"{local:%H:%M}" if local.date() == today else f"{local:%a %H:%M}"
        groups[at] = groups.get(at, 0) + 1
    parts += [text("pulse.sent.later", count=n, at=at) for at, n in sorted(groups.items())]
    note = text("pulse.sent", invited=len(opened.invited), team=opened.team, parts=", ".join(parts))
    if opened.left_out:
        left = "".join(f"\n• {h}: {why}" for h, why in opened.left_out.items())
        note += text("pulse.sent.left_out", people=left)
    return note


async def cmd_resume(services: Services, event: TextEvent, args: list[str]) -> Reply:
    return Reply(notice=await _resume(services, event.actor.person_id, None))


ACTIONS: dict[str, ActionHandler] = {
    ANSWER: on_answer,
    OPEN: on_open,
    SUBMIT: on_submit,
    SKIP: on_skip,
    SNOOZE: on_snooze,
    RESUME: on_resume,
}
COMMANDS: dict[str, CommandHandler] = {
    "results": cmd_results,
    "pulse": cmd_pulse,
    "resume": cmd_resume,
}
