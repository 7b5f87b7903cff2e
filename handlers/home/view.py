"""A person's home by role, as neutral messages ("cards"): what a chat app's home tab
shows, and what `home` answers in any chat.

- executive: each open pulse, answerable right there; their team's latest result where
  the program shares results with the team;
- coach: the latest result of each team they coach;
- admin: each team's program settings, with a button to the admin capability's
  editing form (`handlers/home/admin.py`).

Other features add cards through their `Feature.home_cards` (commitments, contracts,
digests).
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.events import ActionEvent, Refused, Reply, TextEvent
from bot.core.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Field_,
    Fields,
    Message,
    Text,
)
from handlers.context import ActionHandler, CommandHandler, Services
from handlers.home import admin
from handlers.pulse.commands import kept_answers
from handlers.pulse.results import ensure_can_see, results_message, team_results
from handlers.pulse.rounds import instrument_for
from handlers.pulse.scoring import sparkline
from handlers.pulse.view import local_time, pulse_message
from prompts.texts import text
from scheduler.calendar.localtime import resolve_timezone
from scheduler.calendar.people import person_timezone
from storage.core import directory
from storage.core.models import Person, Team, Workspace
from storage.pulse import rounds as pulse

log = logging.getLogger(__name__)

RESULTS = "home.results"
ADMIN_EDIT = "home.admin.edit"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _label(field: str) -> str:
    try:
        return text(f"home.view.field.{field}")
    except KeyError:
        return field.replace("_", " ").capitalize()


async def cards_for(services: Services, person_id: int) -> list[Message]:
    """The whole home of one person, most actionable first."""
    async with services.db.session() as session:
        person = await directory.person(session, person_id)
        roles = await directory.roles_of(session, person_id)
    if person is None:
        return [Message(ref="home", text=text("home.view.unknown"))]
    cards = [_greeting(person)]
    by_team: dict[int, tuple[Team, set[str]]] = {}
    for team, role in roles:
        by_team.setdefault(team.id or 0, (team, set()))[1].add(role)
    for team, team_roles in by_team.values():
        if "executive" in team_roles:
            cards += await _pulse_cards(services, person, team)
    for team, team_roles in by_team.values():
        if card := await _results_card(services, team, team_roles):
            cards.append(card)
    cards += await _capability_cards(services, person_id, {r for _, r in roles})
    for team, team_roles in by_team.values():
        if "admin" in team_roles:
            cards += await _admin_cards(services, team)
    return cards


def _greeting(person: Person) -> Message:
    hello = text("home.view.greeting", person.locale, name=person.name)
    return Message(
        ref="home",
        text=hello,
        blocks=(Text(text=hello, style="heading"), Context(lines=(text("home.view.intro"),))),
    )


async def _pulse_cards(services: Services, person: Person, team: Team) -> list[Message]:
    cards: list[Message] = []
    async with services.db.session() as session:
        workspace = await directory.workspace(session, team.workspace_id)
        for program in await pulse.programs_for_team(session, team.id or 0):
            round_ = await pulse.open_round(session, program.id or 0)
            invite = (
                await pulse.invite_for(session, round_.id or 0, person.id or 0) if round_ else None
            )
            if round_ is None or invite is None:
                continue
            if invite.skipped:
                kept = await kept_answers(session, round_, person)
                note = _set_aside(services, person, team, kept, len(round_.item_keys))
                cards.append(
                    Message(ref=f"home:pulse:{round_.id}", text=note, blocks=(Text(text=note),))
                )
                continue
            respondent = await pulse.respondent_token(session, round_, person.id or 0)
            if respondent is None:
                continue
            mine = await pulse.answers_of(session, round_.id or 0, respondent)
            tz = person_timezone(person, team, workspace)
            instrument = instrument_for(services, program)
            # Progress and the Answer button only: the values are in the private form.
            cards.append(pulse_message(round_, team.name, instrument, tz, mine, person.locale))
    if not cards:
        note = text("home.view.no_pulse", person.locale, team=team.name)
        cards.append(
            Message(ref=f"home:pulse:{team.key}", text=note, blocks=(Context(lines=(note,)),))
        )
    return cards


def _set_aside(services: Services, person: Person, team: Team, kept: int, total: int) -> str:
    """A pulse the person set aside: snoozed (their pulses are off until a date) or
    skipped, and what became of the answers they gave before."""
    until = person.snoozed_until
    if until is not None and until.replace(tzinfo=until.tzinfo or UTC) > services.clock.now():
        note = text("home.view.snoozed", person.locale, team=team.name, until=f"{until:%a %d %b}")
    else:
        note = text("home.view.skipped", person.locale, team=team.name)
    return note + (text("pulse.kept", person.locale, kept=kept, total=total) if kept else "")


async def _results_card(services: Services, team: Team, roles: set[str]) -> Message | None:
    async with services.db.session() as session:
        programs = await pulse.programs_for_team(session, team.id or 0)
    if not programs:
        return None
    try:
        ensure_can_see(roles, programs[0].team_sees_results)
        results = await team_results(services, team.key, limit=6)
    except Refused:
        return None
    heading = text("home.view.results.heading", team=team.name)
    blocks: list[Block] = [Text(text=heading, style="heading")]
    latest = results.latest
    if latest is None:
        blocks.append(Text(text=text("home.view.results.none", team=team.name)))
        return Message(ref=f"home:results:{team.key}", text=heading, blocks=tuple(blocks))
    summary = latest.summary
    if summary.overall is None:
        blocks.append(Text(text=text("home.view.results.withheld", why=summary.withheld)))
    else:
        change = results.change()
        blocks.append(
            Text(
                text=text(
                    "home.view.results.score",
                    score=f"{summary.overall.percent_of_max:.0f}",
                    change="" if change is None else f" ({change:+.0f})",
                    favorable=f"{summary.overall.percent_favorable:.0f}",
                    answered=summary.respondents,
                    invited=summary.invited,
                )
            )
        )
    trend = text(
        "home.view.results.trend", rounds=len(results.rounds), sparkline=sparkline(results.trend)
    )
    blocks += [
        Context(lines=(trend,)),
        Buttons(
            buttons=(
                Button(action_id=RESULTS, value=team.key, label=text("home.view.results.button")),
            )
        ),
    ]
    return Message(ref=f"home:results:{team.key}", text=heading, blocks=tuple(blocks))


async def _capability_cards(services: Services, person_id: int, roles: set[str]) -> list[Message]:
    from handlers.router import FEATURES  # the router imports this module

    cards: list[Message] = []
    for feature in FEATURES:
        if feature.home_cards is None:
            continue
        try:
            cards += await feature.home_cards(services, person_id, roles)
        except Exception:  # one broken section must not take the whole home down
            log.exception("home cards of %s failed", feature.name)
    return cards


def _team_zone(team: Team, workspace: Workspace | None) -> ZoneInfo:
    """The team's zone (else the workspace's) for times shown to admins."""
    return resolve_timezone(None, team.timezone, workspace.timezone if workspace else None)


def _settings_fields(program: Any, workspace: Workspace | None) -> tuple[Field_, ...]:
    weekday = WEEKDAYS[program.weekday % 7]
    values = {
        "frequency": f"{program.frequency}, {weekday} {program.at}",
        "window_hours": str(program.window_hours),
        "privacy": program.privacy,
        "min_respondents": str(program.min_respondents),
        "min_comments": str(program.min_comments),
        "team_sees_results": "yes" if program.team_sees_results else "no",
        "items_per_pulse": str(program.items_per_pulse or "all"),
    }
    if workspace is not None:
        values["retention_months"] = text("home.view.months", months=workspace.retention_months)
    return tuple(Field_(label=_label(k), value=v) for k, v in values.items())


async def _admin_cards(services: Services, team: Team) -> list[Message]:
    cards = []
    async with services.db.session() as session:
        workspace = await directory.workspace(session, team.workspace_id)
        for program in await pulse.programs_for_team(session, team.id or 0):
            current = await pulse.open_round(session, program.id or 0)
            heading = text("home.view.admin.heading", team=team.name)
            state = (
                text(
                    "home.view.admin.open",
                    number=current.number,
                    closes=local_time(current.closes_at, _team_zone(team, workspace)),
                )
                if current
                else text("home.view.admin.closed")
            )
            blocks: list[Block] = [
                Text(text=heading, style="heading"),
                Fields(fields=_settings_fields(program, workspace)),
                Context(lines=(state,)),
            ]
            edit = Button(
                action_id=ADMIN_EDIT, value=team.key, label=text("home.view.admin.button")
            )
            blocks.append(Buttons(buttons=(edit,)))
            cards.append(Message(ref=f"home:admin:{team.key}", text=heading, blocks=tuple(blocks)))
    return cards


async def on_results(services: Services, event: ActionEvent) -> Reply:
    async with services.db.session() as session:
        team = await directory.team_by_key(session, event.value)
        roles = await directory.roles_of(session, event.actor.person_id)
        programs = await pulse.programs_for_team(session, team.id or 0) if team else []
    if team is None or not programs:
        raise Refused(text("home.view.refused.no_program", team=event.value))
    ensure_can_see({role for t, role in roles if t.id == team.id}, programs[0].team_sees_results)
    return Reply(messages=(results_message(await team_results(services, team.key)),))


async def on_admin_edit(services: Services, event: ActionEvent) -> Reply:
    """The admin capability's settings form; a chat app may show it as a modal."""
    values = await admin.program_settings(services, event.actor.person_id, event.value)
    async with services.db.session() as session:
        team = await directory.team_by_key(session, event.value)
    name = team.name if team else event.value
    return Reply(messages=(admin.admin_message(event.value, name, values),))


async def cmd_home(services: Services, event: TextEvent, args: list[str]) -> Reply:
    return Reply(messages=tuple(await cards_for(services, event.actor.person_id)))


ACTIONS: dict[str, ActionHandler] = {RESULTS: on_results, ADMIN_EDIT: on_admin_edit}
COMMANDS: dict[str, CommandHandler] = {"home": cmd_home}
