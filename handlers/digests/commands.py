"""Coach digests in chat: `digest [TEAM]` sends one now, `digests [TEAM]` lists past
ones (each re-opens with a click), `session …` plans coaching sessions; and the coach's
home card with the next session, the latest digest and a "digest now" button."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.events import ActionEvent, Refused, Reply, TextEvent
from bot.core.messages import Button, Buttons, Context, Message, Text
from handlers.context import ActionHandler, CommandHandler, Services, which_team
from handlers.digests import period as digest_period
from handlers.digests.send import configured, send_digest
from handlers.digests.sessions import cmd_session
from handlers.digests.view import LIST, OPEN, SEND, list_message
from prompts.texts import text
from storage.core import directory
from storage.core.models import Team
from storage.digests import queries as digests
from storage.digests.models import Digest


async def demand_occasion(services: Services, team_key: str) -> str:
    """On-demand digests: one per coach, team, hour and latest closed pulse round, so a
    double click sends one, and a round closed since the last one gives a new digest."""
    now = services.clock.now()
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        latest = await digests.latest_closed_round(session, team.id) if team and team.id else None
    return f"demand:{now:%Y-%m-%dT%H}:t{team.id if team else 0}:r{latest or 0}"


async def coached_team(
    services: Services, person_id: int, team_key: str | None, command: str = "digest"
) -> Team:
    """The team named (which the person must coach), else their only coached team."""
    async with services.db.session() as session:
        coached = [t for t, role in await directory.roles_of(session, person_id) if role == "coach"]
    if team_key is None:
        if len(coached) == 1:
            return coached[0]
        raise which_team(command, [t.key for t in coached])
    team = next((t for t in coached if t.key == team_key), None)
    if team is None:
        raise Refused(text("digest.refused.not_coach", team=team_key))
    return team


async def request_digest(services: Services, person_id: int, team_key: str | None) -> Reply:
    team = await coached_team(services, person_id, team_key)
    occasion = await demand_occasion(services, team.key)
    sent = await send_digest(
        services,
        team.key,
        reason="on_demand",
        occasion=occasion,
        options=configured(services),
        coaches=[person_id],
    )
    mine = sent[0]
    if not mine.created:
        async with services.db.session() as session:
            row = await digests.digest(session, mine.digest_id)
        assert row is not None
        note = text("digest.sent.again", team=team.name)
        return Reply(notice=note, messages=(_stored(row.message),))
    source = "language model summary" if mine.source == "llm" else "fallback summary"
    return Reply(notice=text("digest.sent", team=team.name, source=source))


async def _past(services: Services, person_id: int, team_key: str | None) -> Reply:
    team = await coached_team(services, person_id, team_key, "digests")
    async with services.db.session() as session:
        rows = await digests.digests_of(session, person_id, team.id, limit=10)
    return Reply(messages=(list_message(team.key, team.name, rows),))


async def reopen(services: Services, person_id: int, value: str) -> Message:
    """A stored digest exactly as it was sent: only to the coach it was sent to."""
    if not value.isdigit():
        raise Refused(text("digest.refused.unknown"))
    async with services.db.session() as session:
        row = await digests.digest(session, int(value))
    if row is None:
        raise Refused(text("digest.refused.unknown"))
    if row.coach_id != person_id:
        raise Refused(text("digest.refused.not_yours"))
    return _stored(row.message)


def _stored(message: dict[str, Any]) -> Message:
    """A stored digest's message; emptied past the retention period
    (handlers/home/retention.py)."""
    if not message:
        raise Refused(text("digest.refused.purged"))
    return Message.model_validate(message)


async def cmd_digest(services: Services, event: TextEvent, args: list[str]) -> Reply:
    if args and args[0].lower() in ("list", "past"):
        return await _past(services, event.actor.person_id, args[1] if len(args) > 1 else None)
    return await request_digest(services, event.actor.person_id, args[0] if args else None)


async def cmd_digests(services: Services, event: TextEvent, args: list[str]) -> Reply:
    return await _past(services, event.actor.person_id, args[0] if args else None)


async def on_open(services: Services, event: ActionEvent) -> Reply:
    return Reply(messages=(await reopen(services, event.actor.person_id, event.value),))


async def on_list(services: Services, event: ActionEvent) -> Reply:
    return await _past(services, event.actor.person_id, event.value or None)


async def on_send(services: Services, event: ActionEvent) -> Reply:
    return await request_digest(services, event.actor.person_id, event.value or None)


async def home_cards(services: Services, person_id: int, roles: set[str]) -> list[Message]:
    """For a coach, per team: the next session, the latest digest and the buttons."""
    if "coach" not in roles:
        return []
    now = services.clock.now()
    cards: list[Message] = []
    async with services.db.session() as session:
        teams = [t for t, role in await directory.roles_of(session, person_id) if role == "coach"]
        for team in teams:
            workspace = await directory.workspace(session, team.workspace_id)
            times = await digest_period.session_times(session, team, workspace, now)
            latest = await digests.digests_of(session, person_id, team.id, limit=1)
            cards.append(_card(team, times.upcoming(now)[:1], latest, times))
    return cards


def _card(
    team: Team,
    upcoming: list[datetime],
    latest: list[Digest],
    times: digest_period.SessionTimes,
) -> Message:
    lines = [
        text(
            "digest.session.next",
            when=f"{upcoming[0].astimezone(times.tz):%a %d %b %H:%M}",
            zone=times.tz.key,
        )
        if upcoming
        else text("digest.session.none", team=team.name)
    ]
    buttons = [Button(action_id=SEND, value=team.key, label=text("digest.button.refresh"))]
    if latest:
        row = latest[0]
        lines.append(text("digest.latest", id=row.id, date=f"{row.created_at:%d %b %Y}"))
        buttons.insert(
            0, Button(action_id=OPEN, value=str(row.id), label=text("digest.button.latest"))
        )
    buttons.append(Button(action_id=LIST, value=team.key, label=text("digest.button.past")))
    heading = text("digest.home.heading", team=team.name)
    return Message(
        ref=f"home:digests:{team.key}",
        text=heading,
        blocks=(
            Text(text=heading, style="heading"),
            Context(lines=tuple(lines)),
            Buttons(buttons=tuple(buttons)),
        ),
    )


ACTIONS: dict[str, ActionHandler] = {OPEN: on_open, LIST: on_list, SEND: on_send}
COMMANDS: dict[str, CommandHandler] = {
    "digest": cmd_digest,
    "digests": cmd_digests,
    "session": cmd_session,
    "sessions": cmd_session,
}
