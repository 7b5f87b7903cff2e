"""Commitments in chat: add (one line or a form), confirm a coach's proposal, check in,
add a note, list with follow-through, edit, pause, continue, complete, drop, and snooze
reminders. Every change is one transaction: a refusal stores nothing."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import ActionEvent, Refused, Reply, TextEvent
from bot.core.messages import Message, notice
from handlers.commitments import view
from handlers.commitments.checkins import ACTIONS as checkin_actions
from handlers.commitments.checkins import OPEN, number, owned, person_of, snooze
from handlers.commitments.drafts import Draft, apply_draft, from_form, parse_line
from handlers.commitments.follow_through import figures, follow_through
from handlers.commitments.schedule import context_of, enqueue, plan_in
from handlers.context import ActionHandler, CommandHandler, Services
from handlers.pulse.view import local_time
from prompts.texts import text
from scheduler.calendar.people import person_timezone
from storage.commitments import queries as commitments
from storage.commitments.models import Commitment
from storage.core import audit, directory, outbox
from storage.core.models import Person, Team

# verb -> (statuses it applies to, the status it leaves, its past tense for texts)
TRANSITIONS = {
    "pause": (("active",), "paused", "paused"),
    "continue": (("paused",), "active", "continued"),
    "complete": (("active", "paused"), "completed", "completed"),
    "drop": (("pending", "active", "paused"), "dropped", "dropped"),
}


async def owner_team(session: AsyncSession, owner: Person, team_key: str | None) -> Team:
    teams = [
        t for t, role in await directory.roles_of(session, owner.id or 0) if role == "executive"
    ]
    if team_key:
        teams = [t for t in teams if t.key == team_key]
    if not teams:
        raise Refused(text("commitment.refused.no_team", name=owner.name))
    if len(teams) > 1:
        raise Refused(text("commitment.refused.which_team", teams=", ".join(t.key for t in teams)))
    return teams[0]


async def _first(session: AsyncSession, now: datetime, c: Commitment, person: Person) -> str:
    due = await plan_in(session, now, c)
    if due is None:
        return text("commitment.none_planned", person.locale)
    team = await directory.team(session, c.team_id)
    workspace = await directory.workspace(session, person.workspace_id)
    return local_time(due, person_timezone(person, team, workspace))


async def create(services: Services, actor_id: int, d: Draft) -> str:
    """A new commitment: the leader's own (active at once) or proposed by their coach
    (pending until the leader confirms). Returns the notice for the actor."""
    now = services.clock.now()
    async with services.db.session() as session:
        actor = await person_of(session, actor_id)
        owner = actor
        if d.owner and d.owner != actor.handle:
            found = await commitments.person_in_workspace(session, actor.workspace_id, d.owner)
            if found is None:
                raise Refused(text("commitment.refused.person_unknown", handle=d.owner))
            owner = found
        team = await owner_team(session, owner, d.team)
        own = owner.id == actor.id
        if not own and not await directory.has_role(session, actor_id, team.id or 0, ["coach"]):
            raise Refused(text("commitment.refused.not_coach", name=owner.name))
        workspace = await directory.workspace(session, owner.workspace_id)
        c = Commitment(
            person_id=owner.id or 0,
            team_id=team.id or 0,
            behaviour="",
            ends_on=now.date(),
            created_by=actor_id,
            status="active" if own else "pending",
            confirmed_at=now if own else None,
        )
        await apply_draft(session, now, c, d, owner, team, workspace)
        await commitments.add(session, c)
        audit.record(session, f"person:{actor_id}", "commitment.create", f"commitment:{c.id}")
        if own:
            first = await _first(session, now, c, owner)
            return text(
                "commitment.created", actor.locale, id=c.id, behaviour=c.behaviour, first=first
            )
        message = view.confirm_message(c, actor.name, owner.locale)
        key = f"commitment:{c.id}:confirm"
        await enqueue(session, key, owner.id or 0, "commitment-confirm", message, now)
        return text("commitment.proposed", actor.locale, name=owner.name, behaviour=c.behaviour)


async def own_list(session: AsyncSession, person: Person) -> Message:
    """A leader's open commitments with follow-through: on request and in the home view."""
    rows = await commitments.of_person(session, person.id or 0, OPEN)
    found = await commitments.checkins(session, [c.id or 0 for c in rows])
    listed = []
    for c in rows:
        partner = await directory.person(session, c.partner_id) if c.partner_id else None
        listed.append((c, figures(found[c.id or 0]), partner.name if partner else None))
    pooled = sorted((ci for cis in found.values() for ci in cis), key=lambda ci: ci.occurrence)
    return view.list_message(person.id or 0, listed, figures(pooled), person.locale)


async def home_cards(services: Services, person_id: int, roles: set[str]) -> list[Message]:
    """The home view's commitments: the leader's own, and each coached team's."""
    cards: list[Message] = []
    async with services.db.session() as session:
        person = await person_of(session, person_id)
        if "executive" in roles:
            cards.append(await own_list(session, person))
        coached = [t for t, role in await directory.roles_of(session, person_id) if role == "coach"]
    for team in coached:
        rows = await follow_through(services, team.id or 0, person_id)
        cards.append(view.team_message(team.key, team.name, rows))
    return cards


# --------------------------------------------------------------------------- lifecycle


async def on_create(services: Services, event: ActionEvent) -> Reply:
    note = await create(services, event.actor.person_id, from_form(event.inputs))
    return Reply(update=notice("commitment-form", note))


async def _confirm(services: Services, event: ActionEvent, accept: bool) -> Reply:
    now = services.clock.now()
    async with services.db.session() as session:
        c = await owned(session, event.actor.person_id, number(event.value), ("pending",))
        person = await person_of(session, event.actor.person_id)
        c.status = "active" if accept else "declined"
        c.confirmed_at, c.closed_at = (now, None) if accept else (None, now)
        session.add(c)
        audit.record(session, f"person:{person.id}", f"commitment.{c.status}", f"commitment:{c.id}")
        if accept:
            note = text(
                "commitment.confirmed", person.locale, first=await _first(session, now, c, person)
            )
        else:
            note = text("commitment.declined", person.locale)
    return Reply(update=notice(f"commitment-confirm:{c.id}", note))


async def on_confirm(services: Services, event: ActionEvent) -> Reply:
    return await _confirm(services, event, True)


async def on_decline(services: Services, event: ActionEvent) -> Reply:
    return await _confirm(services, event, False)


async def change_status(services: Services, person_id: int, commitment_id: int, verb: str) -> str:
    now = services.clock.now()
    allowed, status, done = TRANSITIONS[verb]
    async with services.db.session() as session:
        c = await owned(session, person_id, commitment_id)
        person = await person_of(session, person_id)
        if c.status not in allowed:
            raise Refused(text("commitment.refused.status", id=c.id, status=c.status, verb=done))
        c.status = status
        c.closed_at = now if status in commitments.CLOSED_STATUSES else None
        session.add(c)
        if status != "active":  # nothing more goes out: not the question, nudge or summary
            await outbox.cancel_pending(session, f"commitment:{c.id}:", f"commitment {status}")
        first = await _first(session, now, c, person)
        audit.record(session, f"person:{person_id}", f"commitment.{verb}", f"commitment:{c.id}")
        return text(f"commitment.{done}", person.locale, id=c.id, first=first)


def _status_action(verb: str) -> ActionHandler:
    async def handle(services: Services, event: ActionEvent) -> Reply:
        note = await change_status(services, event.actor.person_id, number(event.value), verb)
        async with services.db.session() as session:
            listing = await own_list(session, await person_of(session, event.actor.person_id))
        return Reply(update=listing, notice=note)

    return handle


async def edit(services: Services, person_id: int, commitment_id: int, words: list[str]) -> str:
    now = services.clock.now()
    d = parse_line(" ".join(words), with_behaviour=False)
    if not d.given() or d.owner or d.team:
        raise Refused(text("commitment.refused.nothing_to_edit", id=commitment_id))
    async with services.db.session() as session:
        c = await owned(session, person_id, commitment_id)
        owner, team, workspace = await context_of(session, c)
        assert team is not None
        changed = await apply_draft(session, now, c, d, owner, team, workspace)
        session.add(c)
        await plan_in(session, now, c)
        audit.record(
            session, f"person:{person_id}", "commitment.edit", f"commitment:{c.id}", fields=changed
        )
    return text("commitment.edited", id=commitment_id, fields=", ".join(changed) or "nothing")


# --------------------------------------------------------------------------- commands


async def cmd_commit(services: Services, event: TextEvent, args: list[str]) -> Reply:
    if not args:
        return Reply(messages=(view.form_message(),))
    if args[0].lower() == "help":
        return Reply(messages=(view.help_message(),))
    return Reply(notice=await create(services, event.actor.person_id, parse_line(" ".join(args))))


async def cmd_commitments(services: Services, event: TextEvent, args: list[str]) -> Reply:
    """`commitments` (mine) or `commitments TEAM` (what I may see of a team's)."""
    async with services.db.session() as session:
        person = await person_of(session, event.actor.person_id)
        if not args:
            return Reply(messages=(await own_list(session, person),))
        team = await directory.team_by_key(session, args[0])
        if team is None:
            raise Refused(text("commitment.refused.unknown_team", team=args[0]))
    rows = await follow_through(services, team.id or 0, person.id)
    return Reply(messages=(view.team_message(team.key, team.name, rows),))


async def cmd_commitment(services: Services, event: TextEvent, args: list[str]) -> Reply:
    """`commitment N`, `commitment N edit …`, `commitment N pause|continue|complete|drop`."""
    if not args or args[0].lower() == "help":
        return Reply(messages=(view.help_message(),))
    cid, person_id = number(args[0]), event.actor.person_id
    verb = args[1].lower() if len(args) > 1 else "show"
    if verb in TRANSITIONS:
        return Reply(notice=await change_status(services, person_id, cid, verb))
    if verb == "edit":
        return Reply(notice=await edit(services, person_id, cid, args[2:]))
    async with services.db.session() as session:
        c = await owned(session, person_id, cid, OPEN + commitments.CLOSED_STATUSES)
        f = figures((await commitments.checkins(session, [cid]))[cid])
        partner = await directory.person(session, c.partner_id) if c.partner_id else None
    blocks = tuple(view.commitment_blocks(c, f, partner.name if partner else None))
    return Reply(messages=(Message(ref=f"commitment:{cid}", text=c.behaviour, blocks=blocks),))


async def cmd_snooze(services: Services, event: TextEvent, args: list[str]) -> Reply:
    return Reply(notice=await snooze(services, event.actor.person_id, args))


async def cmd_unsnooze(services: Services, event: TextEvent, args: list[str]) -> Reply:
    return Reply(notice=await snooze(services, event.actor.person_id, ["off"]))


ACTIONS: dict[str, ActionHandler] = {
    **checkin_actions,
    view.CREATE: on_create,
    view.CONFIRM: on_confirm,
    view.DECLINE: on_decline,
    view.PAUSE: _status_action("pause"),
    view.CONTINUE: _status_action("continue"),
    view.COMPLETE: _status_action("complete"),
    view.DROP: _status_action("drop"),
}
COMMANDS: dict[str, CommandHandler] = {
    "commit": cmd_commit,
    "commitments": cmd_commitments,
    "commitment": cmd_commitment,
    "snooze": cmd_snooze,
    "unsnooze": cmd_unsnooze,
}
