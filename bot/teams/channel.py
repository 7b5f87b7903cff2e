"""Teams on the pulsecoach server: `POST /api/messages` through botbuilder's CloudAdapter
(JWT-validated when MICROSOFT_APP_ID is set, not at all in dev mode), the Messenger
for the outbox sender, and the turn logic that feeds the router.

The endpoint answers what it cannot read with a 4xx naming the problem, a request
without a valid token with 401, and everything else with 200 (an invoke with its
body): whatever goes wrong inside a turn is logged and told to the person, never a 5xx.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from bot.channel import Wiring
from bot.core.messenger import Messenger
from bot.teams.actors import Actors
from bot.teams.adapter import TeamsAuth, build_adapter
from bot.teams.messenger import TeamsMessenger
from bot.teams.pacing import Pacer
from bot.teams.replies import Replies
from bot.teams.turns import Turns
from scheduler.runtime.jobs import SystemJob

log = logging.getLogger(__name__)

PATH = "/api/messages"
DEV_WARNING = (
    "TEAMS DEV MODE: /api/messages accepts activities WITHOUT any JWT validation "
    "(PULSECOACH_TEAMS=dev, no MICROSOFT_APP_ID). Never expose this server."
)


class TeamsChannel:
    name = "teams"

    def __init__(self, wiring: Wiring, auth: TeamsAuth | None = None) -> None:
        settings = wiring.settings
        self.auth = auth or TeamsAuth.from_settings(settings)
        self.adapter = build_adapter(self.auth)
        self.pacer = Pacer(settings.teams_sends_per_second)
        self.messenger: Messenger = TeamsMessenger(
            self.adapter, wiring.db, self.auth.app_id, self.pacer, images=wiring.images
        )
        self.actors = Actors(wiring.db)
        self.replies = Replies(wiring.db, self.pacer)
        self.turns = Turns(wiring.router, self.actors, self.replies)
        self.web_app: web.Application | None = None

    def mount(self, web_app: web.Application) -> None:
        web_app[TEAMS_KEY] = self
        web_app.router.add_post(PATH, messages)

        async def on_startup(_: web.Application) -> None:
            if not self.auth.validates:
                log.warning(DEV_WARNING)
            else:
                log.info("teams: %s validates tokens for app %s", PATH, self.auth.app_id)

        web_app.on_startup.append(on_startup)

    def system_jobs(self) -> Sequence[SystemJob]:
        return ()


TEAMS_KEY = web.AppKey("teams_channel", TeamsChannel)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def malformed(body: Any) -> str | None:
    """What makes this body no activity we can work with, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (a Bot Framework activity)"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "field 'type' must be a non-empty string"
    if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"].startswith(
        ("https://", "http://")
    ):
        return "field 'serviceUrl' must be an http(s) URL"
    for name in ("conversation", "from", "recipient"):
        part = body.get(name)
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
            return f"field '{name}' must be an object with a non-empty 'id'"
    if "value" in body and not isinstance(body["value"], (dict, str, type(None))):
        return "field 'value' must be an object"
    return None


async def messages(request: web.Request) -> web.StreamResponse:
    channel = request.app[TEAMS_KEY]
    if "json" not in request.content_type:
        return _error(415, "send the activity as application/json")
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as error:
        return _error(400, f"the body is not valid JSON: {error}")
    problem = malformed(body)
    if problem is not None:
        return _error(400, problem)
    try:
        activity = Activity().deserialize(body)
    except (DeserializationError, ValueError, TypeError, AttributeError) as error:
        return _error(400, f"the activity cannot be read: {str(error)[:200]}")
    header = request.headers.get("Authorization", "") if channel.auth.validates else ""
    try:
        authenticated = await channel.adapter.bot_framework_authentication.authenticate_request(
            activity, header
        )
    except Exception as error:  # botbuilder raises bare Exceptions for bad tokens
        log.info("teams: refused an activity: %s: %s", type(error).__name__, str(error)[:200])
        return _error(401, "unauthorized: a valid Bot Framework token is required")
    try:
        answer = await channel.adapter.process_activity(
            authenticated, activity, channel.turns.on_turn
        )
    except Exception:
        log.exception("teams: processing a %s activity failed", activity.type)
        return web.Response(status=200)
    if answer is not None and answer.body is not None:
        return web.json_response(answer.body, status=answer.status or 200)
    # An empty 200 (not JSON `null`): after task/submit, Teams closes the dialog.
    return web.Response(status=answer.status or 200 if answer is not None else 200)
