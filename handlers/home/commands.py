"""Greeting, help and "who am I here": the bot's front door."""

from __future__ import annotations

from bot.core.events import ActionEvent, Reply, TextEvent
from bot.core.messages import Button, Buttons, Context, Field_, Fields, Message, Text
from handlers.context import ActionHandler, CommandHandler, Services
from prompts.texts import text
from storage.core import directory

HELP_REF = "home:help"


HELP_BY_ROLE = ("executive", "coach", "admin")


def help_message(roles: set[str] | None = None) -> Message:
    """What the bot does and the commands this person can use, by role."""
    roles = roles or set()
    lines = [text("home.help.everyone")] + [
        text(f"home.help.{role}") for role in HELP_BY_ROLE if role in roles
    ]
    return Message(
        ref=HELP_REF,
        text=text("home.help.title"),
        blocks=(
            Text(text=text("home.help.title"), style="heading"),
            Text(text=text("home.help.body")),
            Context(lines=tuple(lines)),
            Buttons(
                buttons=(
                    Button(
                        action_id="home.teams",
                        value="",
                        label=text("home.button.teams"),
                        style="primary",
                    ),
                    Button(action_id="home.help", value="", label=text("home.button.help")),
                )
            ),
        ),
    )


async def _roles(services: Services, person_id: int) -> set[str]:
    async with services.db.session() as session:
        return {role for _, role in await directory.roles_of(session, person_id)}


async def teams_message(services: Services, person_id: int) -> Message:
    async with services.db.session() as session:
        roles = await directory.roles_of(session, person_id)
    if not roles:
        return Message(
            ref="home:teams",
            text=text("home.teams.none"),
            blocks=(Text(text=text("home.teams.none")),),
        )
    fields = tuple(Field_(label=team.name, value=role) for team, role in roles)
    return Message(
        ref="home:teams",
        text=text("home.teams.title"),
        blocks=(
            Text(text=text("home.teams.title"), style="heading"),
            Fields(fields=fields),
            Context(lines=(text("home.teams.context"),)),
        ),
    )


async def on_help(services: Services, event: ActionEvent) -> Reply:
    return Reply(update=help_message(await _roles(services, event.actor.person_id)))


async def on_teams(services: Services, event: ActionEvent) -> Reply:
    return Reply(messages=(await teams_message(services, event.actor.person_id),))


async def cmd_help(services: Services, event: TextEvent, args: list[str]) -> Reply:
    return Reply(messages=(help_message(await _roles(services, event.actor.person_id)),))


async def cmd_teams(services: Services, event: TextEvent, args: list[str]) -> Reply:
    return Reply(messages=(await teams_message(services, event.actor.person_id),))


ACTIONS: dict[str, ActionHandler] = {"home.help": on_help, "home.teams": on_teams}
COMMANDS: dict[str, CommandHandler] = {
    "help": cmd_help,
    "hi": cmd_help,
    "hello": cmd_help,
    "start": cmd_help,
    "teams": cmd_teams,
}
