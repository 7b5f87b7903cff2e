"""Erasure (#13): `pulsecoach forget PERSON`, and the admin's forget action in chat
(preview, then confirmation). Removes the person's personal data in one transaction
(storage/core/erasure.py), then has the database reclaim the rows; the audit row
names what was removed (kinds and counts), never the data."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.events import ActionEvent, Refused, Reply, TextEvent
from bot.core.messages import Button, Buttons, Context, Message, Text
from handlers.context import ActionHandler, CommandHandler, Services
from prompts.texts import text
from storage.core import audit, directory, erasure


@dataclass(frozen=True)
class Forgotten:
    handle: str
    counts: dict[str, int]

    def lines(self) -> list[str]:
        return [f"{what}: {n}" for what, n in self.counts.items() if n]


async def _person_id(services: Services, handle: str) -> int:
    async with services.db.session() as session:
        person = await directory.person_by_handle(session, handle)
    if person is None or person.id is None:
        raise Refused(text("admin.forget.unknown", handle=handle))
    return person.id


async def preview_forget(services: Services, handle: str) -> Forgotten:
    """What forgetting `handle` would remove, counted; changes nothing."""
    person_id = await _person_id(services, handle)
    async with services.db.session() as session:
        found = await erasure.preview(session, person_id)
    return Forgotten(handle, found.counts)


async def forget(services: Services, handle: str, actor: str) -> Forgotten:
    person_id = await _person_id(services, handle)
    async with services.db.session() as session:
        done = await erasure.erase(session, person_id)
        audit.record(
            session,
            actor,
            "person.forget",
            f"person:{person_id}",
            removed={what: n for what, n in done.counts.items() if n},
        )
    await services.db.scrub((), erasure.TABLES)
    return Forgotten(handle, done.counts)


FORGET = "admin.forget"


async def _ensure_admin(services: Services, event: ActionEvent | TextEvent, handle: str) -> None:
    """An admin of some team, and the person in the same workspace."""
    async with services.db.session() as session:
        roles = await directory.roles_of(session, event.actor.person_id)
        person = await directory.person_by_handle(session, handle)
    if not any(role == "admin" for _, role in roles):
        raise Refused(text("admin.forget.not_admin"))
    if person is None or person.workspace_id != event.actor.workspace_id:
        raise Refused(text("admin.forget.unknown", handle=handle))


async def cmd_forget(services: Services, event: TextEvent, args: list[str]) -> Reply:
    """`forget HANDLE`: what would go, and a button to confirm."""
    if len(args) != 1:
        raise Refused(text("admin.forget.usage"))
    handle = args[0]
    await _ensure_admin(services, event, handle)
    found = await preview_forget(services, handle)
    lines = found.lines() or [text("admin.forget.profile_only")]
    heading = text("admin.forget.heading", handle=handle)
    return Reply(
        messages=(
            Message(
                ref=f"forget:{handle}",
                text=heading,
                blocks=(
                    Text(text=heading, style="heading"),
                    Text(text="\n".join(f"• {line}" for line in lines)),
                    Context(lines=(text("admin.forget.kept"),)),
                    Buttons(
                        buttons=(
                            Button(
                                action_id=FORGET,
                                value=handle,
                                label=text("admin.forget.confirm", handle=handle),
                                style="danger",
                            ),
                        )
                    ),
                ),
            ),
        )
    )


async def on_forget(services: Services, event: ActionEvent) -> Reply:
    await _ensure_admin(services, event, event.value)
    done = await forget(services, event.value, f"person:{event.actor.person_id}")
    note = text("admin.forget.done", handle=event.value, removed="; ".join(done.lines()))
    return Reply(update=Message(ref=f"forget:{event.value}", text=note, blocks=(Text(text=note),)))


ACTIONS: dict[str, ActionHandler] = {FORGET: on_forget}
COMMANDS: dict[str, CommandHandler] = {"forget": cmd_forget}
