"""Slack on the pulsecoach server: HTTP routes when SLACK_SIGNING_SECRET is set, Socket
Mode when SLACK_APP_TOKEN is set, the Messenger for the outbox sender, and the leader's
jobs that keep the roster fresh."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.channel import Wiring
from bot.slack import inbound
from bot.slack.app import INSTALL_REASONS, SlackChannel
from bot.slack.interactions import kind_of
from bot.slack.link import SlackConfig, SlackLink
from bot.slack.responses import (
    UNREADABLE,
    rate_limited,
    retry_after,
    slack_error_code,
    slack_status,
)
from bot.slack.sender import SlackMessenger
from scheduler.runtime.jobs import SystemJob
from storage.channels import slack as slack_store

log = logging.getLogger(__name__)

SLACK_KEY = web.AppKey("slack_channel", SlackChannel)
ROSTER_SECONDS = 12 * 3600
# Until the single workspace's bot token has passed auth.test once, ask again this often.
WORKSPACE_CHECK_SECONDS = 60.0
START_TRIES = 5  # auth.test at start-up, on Slack's passing trouble, with backoff
START_BACKOFF = 1.0  # seconds, doubled each try


class SlackMount:
    """The Slack channel entry built for this process (see bot/channel.py)."""

    name = "slack"

    def __init__(self, wiring: Wiring) -> None:
        link = SlackLink(SlackConfig.from_settings(wiring.settings), wiring.db)
        self.link = link
        self.messenger = SlackMessenger(link, images=wiring.images)
        self.channel = SlackChannel(
            link, self.messenger, wiring.router, wiring.services, wiring.settings.public_url
        )
        self.known = False  # the single workspace's token passed auth.test once
        self.missed_roster = False  # a roster pass found the token not working yet

    def mount(self, web_app: web.Application) -> None:
        link, channel = self.link, self.channel
        web_app[SLACK_KEY] = channel
        if link.config.signing_secret:
            web_app.router.add_post("/slack/events", slack_events)
            if channel.bolt.oauth_flow is not None:
                web_app.router.add_get("/slack/install", slack_install)
                web_app.router.add_get("/slack/oauth_redirect", slack_oauth_redirect)
        running: dict[str, Any] = {}

        async def on_startup(_: web.Application) -> None:
            link.session  # noqa: B018 - the pooled session, made inside the event loop
            if link.store is not None and link.store.sealer.key_count > 1:
                count = await link.store.reseal_all()
                log.info("slack: re-encrypted %d installations under the newest key", count)
            if link.config.app_token:
                handler = AsyncSocketModeHandler(channel.bolt, link.config.app_token)
                await handler.connect_async()
                running["socket"] = handler
                log.info("slack: connected in Socket Mode")

        async def on_cleanup(_: web.Application) -> None:
            if "socket" in running:
                await running["socket"].close_async()
            await channel.after.drain()
            await link.close()

        web_app.on_startup.append(on_startup)
        web_app.on_cleanup.insert(0, on_cleanup)  # before the database goes away

    def system_jobs(self) -> Sequence[SystemJob]:
        """On the leader: the single workspace's token checked (until it passes), and
        the roster matched and time zones refreshed at once and twice a day."""
        jobs = [SystemJob("slack-roster", ROSTER_SECONDS, self.sync_roster)]
        if self.link.store is None and self.link.config.bot_token:
            jobs.insert(0, SystemJob("slack-workspace", WORKSPACE_CHECK_SECONDS, self.check))
        return jobs

    async def check(self) -> bool:
        """True once the token passed auth.test. Passing after a failed start, the
        roster is read at once rather than at its next pass, 12 hours on."""
        if not self.known:
            self.known = await _single_workspace(self.link, self.channel)
            if self.known and self.missed_roster:
                self.missed_roster = False
                await self.sync_roster()
        return self.known

    async def sync_roster(self) -> int:
        """Every workspace's people matched; a 429 on the way is waited out by the roster."""
        if self.link.store is None and self.link.config.bot_token and not await self.check():
            self.missed_roster = True  # read once the check passes
            return 0  # the token does not work (yet): nothing to read
        async with self.link.db.session() as session:
            teams = [w.external_id for w in await slack_store.slack_workspaces(session)]
        for team in teams:
            await self.channel.roster.sync(team)
        self.channel.actors.forget()
        return len(teams)


async def slack_events(request: web.Request) -> web.Response:
    """Events, interactivity and the slash command: one URL, signed by Slack. The
    signature is checked on the raw bytes before anything is parsed (see inbound.py)."""
    channel = request.app[SLACK_KEY]
    raw = await request.read()
    why = inbound.verify(channel.link.config.signing_secret or "", raw, request.headers)
    if why is not None:
        inbound.REFUSALS.refused(why, request.remote)
        return web.Response(status=401, text="invalid request signature")
    try:
        text, body, source = inbound.parse(raw, request.headers.get("Content-Type"))
    except inbound.Malformed as malformed:
        return web.Response(status=400, text=str(malformed))
    wrong = inbound.problem(body, source)
    if wrong is not None:  # signed, so Slack's: acknowledged, else it comes again
        channel.interactions.ignore(kind_of(body), f"malformed: {wrong}")
        return web.Response(status=200)
    req = inbound.bolt_request(text, body, request.query_string, request.headers)
    return await to_aiohttp_response(await channel.bolt.dispatch_checked(req))


async def slack_install(request: web.Request) -> web.Response:
    flow = request.app[SLACK_KEY].bolt.oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))


async def slack_oauth_redirect(request: web.Request) -> web.Response:
    flow = request.app[SLACK_KEY].bolt.oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))


async def _auth_test(link: SlackLink) -> dict[str, Any] | None:
    """auth.test of SLACK_BOT_TOKEN: the workspace's answer, or None when the token was
    refused (or Slack stayed unreachable through the backoff). Slack's passing trouble
    (5xx, 429, a timeout) is asked again after 1, 2, 4 and 8 s: else the workspace would
    wait for the next check."""
    for attempt in range(START_TRIES):
        if attempt:
            await asyncio.sleep(START_BACKOFF * 2 ** (attempt - 1))
        await link.pacer.wait("-", "auth.test")
        try:
            found = await link.sender.auth_test(token=link.config.bot_token)
            return dict(found.data) if isinstance(found.data, dict) else None
        except SlackApiError as error:
            if rate_limited(error):
                link.pacer.hold("-", "auth.test", retry_after(error))
            elif slack_status(error) < 500 and slack_error_code(error) != UNREADABLE:
                log.error("slack: SLACK_BOT_TOKEN refused: %s", slack_error_code(error))
                return None
            why = slack_error_code(error)
        except (TimeoutError, aiohttp.ClientError) as error:
            why = type(error).__name__
        log.warning("slack: auth.test failed (%s), try %d of %d", why, attempt + 1, START_TRIES)
    return None


async def _single_workspace(link: SlackLink, channel: SlackChannel) -> bool:
    """With SLACK_BOT_TOKEN, the workspace is the token's: make sure we know it, and,
    the token working, bring back addresses an uninstall or a refused token turned off
    (single-workspace mode has no install callback to do it). True once done."""
    found = await _auth_test(link)
    if found is None:
        return False
    team = str(found["team_id"])
    async with link.db.session() as session:
        await slack_store.ensure_workspace(session, team, str(found["team"]))
        back = await slack_store.reactivate_team(session, team, INSTALL_REASONS)
    if back:
        channel.actors.forget()
        log.info("slack: the bot token works in team %s: %d addresses active again", team, back)
    return True
