"""The local channel's JSON API and web page: a chat app served by pulsecoach.

GET  /api/local/personas                       who you can be
GET  /api/local/people/{handle}/messages       that person's chat (the last 100)
POST /api/local/people/{handle}/actions        a click or a form's submission:
     {message_id | message_ref, action_id, value, inputs}; the answer may hold a
     private `form` (shown in a dialog, never stored in the chat history)
POST /api/local/people/{handle}/messages       a text message to the bot: {text}
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core.events import (
    ActionEvent,
    Actor,
    FieldErrors,
    Refused,
    Reply,
    TextEvent,
    UnknownAction,
)
from bot.core.messages import Message, Text, notice
from bot.core.metrics import ACTION_SECONDS, ACTIONS
from bot.local import limits
from handlers.router import Router
from storage.channels import local_inbox
from storage.core import directory
from storage.core.db import Database
from storage.core.models import LocalMessage, Person

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
ROUTER_KEY = web.AppKey("local_router", Router)
DB_KEY = web.AppKey("local_db", Database)


def error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def serialize(row: LocalMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "ref": row.ref,
        "sender": row.sender,
        "version": row.version,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "message": row.payload,
    }


async def _person(request: web.Request) -> Person:
    handle = limits.handle(request.match_info["handle"])
    async with request.app[DB_KEY].session() as session:
        person = await directory.local_person(session, handle)
    if person is None:
        raise web.HTTPNotFound(
            text=json.dumps(
                {"error": f"unknown persona {handle!r}: pick one from GET /api/local/personas"}
            ),
            content_type="application/json",
        )
    return person


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, every string in it storable (see limits.py)."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        limits.too_large(request.client_max_size)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        limits.refuse(400, f"request body is not valid JSON: {exc}")
    except RecursionError:
        limits.refuse(400, "request body is nested too deeply")
    if not isinstance(body, dict):
        limits.refuse(400, "request body must be a JSON object")
    limits.check_strings(body)
    return body


async def personas(request: web.Request) -> web.Response:
    async with request.app[DB_KEY].session() as session:
        people = await directory.local_people(session)
    return web.json_response(
        {
            "personas": [
                {
                    "handle": p.handle,
                    "name": p.name,
                    "roles": roles,
                    "teams": teams,
                    "timezone": p.timezone,
                }
                for p, roles, teams in people
            ]
        }
    )


async def messages(request: web.Request) -> web.Response:
    person = await _person(request)
    assert person.id is not None
    async with request.app[DB_KEY].session() as session:
        rows = await local_inbox.history(session, person.id)
    return web.json_response({"person": person.handle, "messages": [serialize(r) for r in rows]})


async def post_action(request: web.Request) -> web.Response:
    person = await _person(request)
    body = await _json_body(request)
    action_id = limits.text(body, "action_id", limits.ID_MAX)
    value = limits.text(body, "value", limits.VALUE_MAX, required=False)
    inputs = limits.inputs(body)
    router = request.app[ROUTER_KEY]
    if not router.knows_action(action_id):
        return error(422, f"unknown action_id {action_id!r}")
    clicked = await _clicked_message(request.app[DB_KEY], person, body)
    if (
        clicked is not None
        and action_id not in Message.model_validate(clicked.payload).action_ids()
    ):
        return error(422, f"action_id {action_id!r} is not in message {clicked.id}")
    actor = Actor(person_id=person.id or 0, workspace_id=person.workspace_id, channel="local")
    event = ActionEvent(
        actor=actor,
        action_id=action_id,
        value=value,
        message_ref=clicked.ref if clicked else None,
        inputs=inputs,
    )
    return await _answer(request, person, lambda: router.on_action(event), clicked)


async def post_message(request: web.Request) -> web.Response:
    person = await _person(request)
    body = await _json_body(request)
    said = limits.text(body, "text", limits.TEXT_MAX).strip()
    assert person.id is not None
    async with request.app[DB_KEY].session() as session:
        await local_inbox.upsert(
            session,
            person.id,
            f"user:{uuid.uuid4().hex}",
            "user",
            Message(ref="user", text=said).model_dump(mode="json"),
        )
    actor = Actor(person_id=person.id, workspace_id=person.workspace_id, channel="local")
    event = TextEvent(actor=actor, text=said)
    return await _answer(request, person, lambda: request.app[ROUTER_KEY].on_text(event), None)


async def _clicked_message(
    db: Database, person: Person, body: dict[str, Any]
) -> LocalMessage | None:
    message_id = limits.message_id(body)
    message_ref = limits.text(body, "message_ref", limits.ID_MAX, required=False)
    if message_id is None and not message_ref:
        return None
    assert person.id is not None
    async with db.session() as session:
        if message_id is not None:
            row = await session.get(LocalMessage, message_id)
        else:
            row = await local_inbox.by_ref(session, person.id, message_ref)
    if row is None or row.person_id != person.id:
        raise web.HTTPNotFound(
            text=json.dumps({"error": "no such message in this person's chat"}),
            content_type="application/json",
        )
    return row


async def _answer(
    request: web.Request, person: Person, run: Any, clicked: LocalMessage | None
) -> web.Response:
    started = time.perf_counter()
    try:
        reply: Reply = await run()
    except UnknownAction as exc:
        ACTIONS.labels("local", "unknown").inc()
        return error(422, f"unknown action_id {exc.args[0]!r}")
    except FieldErrors as exc:
        # The form again, in place, with every error beside its field.
        ACTIONS.labels("local", "refused").inc()
        stored = await _apply(request.app[DB_KEY], person, Reply(update=exc.form), clicked)
        return error(409, str(exc), refused=True, errors=exc.errors, messages=stored)
    except Refused as exc:
        # Said in the conversation, where the person is looking (and kept there), and
        # still a 409 for API clients. The refusal says why and what to do instead.
        ACTIONS.labels("local", "refused").inc()
        refusal = Message(
            ref=f"refused:{uuid.uuid4().hex}",
            text=str(exc),
            blocks=(Text(text=str(exc), style="notice"),),
        )
        stored = await _apply(request.app[DB_KEY], person, Reply(messages=(refusal,)), None)
        return error(409, str(exc), refused=True, messages=stored)
    finally:
        ACTION_SECONDS.labels("local").observe(time.perf_counter() - started)
    ACTIONS.labels("local", "ok").inc()
    stored = await _apply(request.app[DB_KEY], person, reply, clicked)
    answer: dict[str, Any] = {"ok": True, "notice": reply.notice, "messages": stored}
    if reply.form is not None:  # private: in this answer only, never in the history
        answer["form"] = reply.form.model_dump(mode="json")
    return web.json_response(answer)


async def _apply(
    db: Database, person: Person, reply: Reply, clicked: LocalMessage | None
) -> list[dict[str, Any]]:
    """Update the clicked message in place, then add the notice and new messages."""
    assert person.id is not None
    stored: list[LocalMessage] = []
    async with db.session() as session:
        if reply.update is not None:
            ref = clicked.ref if clicked else reply.update.ref
            stored.append(
                await local_inbox.upsert(
                    session, person.id, ref, "bot", reply.update.model_dump(mode="json")
                )
            )
        # A command's answer is a new message at the bottom, never an edit far up.
        if reply.notice:
            note = notice(f"notice:{uuid.uuid4().hex}", reply.notice)
            stored.append(await local_inbox.post(session, person.id, note.ref, "bot", _dump(note)))
        for message in reply.messages:
            stored.append(
                await local_inbox.post(session, person.id, message.ref, "bot", _dump(message))
            )
    return [serialize(row) for row in stored]


def _dump(message: Message) -> dict[str, Any]:
    return message.model_dump(mode="json")


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def favicon(request: web.Request) -> web.FileResponse:
    """Browsers ask for /favicon.ico whatever the page says: the same SVG mark."""
    return web.FileResponse(
        STATIC / "favicon.svg",
        headers={"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"},
    )


LOCAL_PATHS = ("/api/local/", "/static/")


def _from_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """The API answers in JSON even when something unexpected breaks. The local chat
    has no login, so it answers only on this machine: anyone else could read anyone's
    chat, own pulse answers included."""
    if (request.path == "/" or request.path.startswith(LOCAL_PATHS)) and not _from_loopback(
        request
    ):
        return error(403, "the local chat answers only on this machine (loopback)")
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        if not request.path.startswith("/api/"):
            raise
        log.exception("local API %s %s failed", request.method, request.path)
        return error(500, "internal error: nothing was changed; see the server log")


def setup(app: web.Application, db: Database, router: Router) -> None:
    app.middlewares.append(json_errors)
    app[DB_KEY] = db
    app[ROUTER_KEY] = router
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/api/local/personas", personas)
    app.router.add_get("/api/local/people/{handle}/messages", messages)
    app.router.add_post("/api/local/people/{handle}/actions", post_action)
    app.router.add_post("/api/local/people/{handle}/messages", post_message)
