"""Slack on the pulsecoach server: HTTP routes when SLACK_SIGNING_SECRET is set, Socket
Mode when SLACK_APP_TOKEN is set, the Messenger for the outbox sender, and the
roster kept fresh."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.core.images import ImageFile, ImageResolver
from bot.core.messenger import Messenger
from bot.slack.app import INSTALL_REASONS, SlackChannel
from bot.slack.link import SlackConfig, SlackLink
from bot.slack.responses import slack_error_code
from bot.slack.sender import SlackMessenger
from handlers.context import Services
from handlers.digests.chart import digest_chart_png
from handlers.digests.view import attachment_digest
from storage.channels import slack as slack_store

if TYPE_CHECKING:
    from bot.app import Pulsecoach

log = logging.getLogger(__name__)

SLACK_KEY = web.AppKey("slack_channel", SlackChannel)
ROSTER_SECONDS = 12 * 3600
# Until this process leads (on PostgreSQL the leader probe may take the lock later),
# look again this often.
LEADER_RETRY_SECONDS = 60.0


def slack_messenger(app: Pulsecoach) -> Messenger | None:
    """The Slack Messenger, when Slack is configured."""
    if not app.settings.slack_enabled:
        return None
    existing = app.messengers.get("slack")
    if isinstance(existing, SlackMessenger):
        return existing
    link = SlackLink(SlackConfig.from_settings(app.settings), app.db)
    return SlackMessenger(link, images=chart_images(app.services))


def chart_images(services: Services) -> ImageResolver:
    """The PNGs behind image attachment keys: a digest's trend chart."""

    async def resolve(key: str) -> ImageFile | None:
        digest_id = attachment_digest(key)
        if digest_id is None:
            return None
        png = await digest_chart_png(services, digest_id)
        return ImageFile(png, f"pulsecoach-digest-{digest_id}-trend.png") if png else None

    return resolve


async def slack_events(request: web.Request) -> web.Response:
    """Events, interactivity and the slash command: one URL, signed by Slack."""
    bolt = request.app[SLACK_KEY].bolt
    return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))


async def slack_install(request: web.Request) -> web.Response:
    flow = request.app[SLACK_KEY].bolt.oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))


async def slack_oauth_redirect(request: web.Request) -> web.Response:
    flow = request.app[SLACK_KEY].bolt.oauth_flow
    assert flow is not None
    return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))


def mount_slack(web_app: web.Application, app: Pulsecoach) -> None:
    """Everything Slack on this server; nothing at all when Slack is not configured."""
    messenger = slack_messenger(app)
    if messenger is None:
        return
    assert isinstance(messenger, SlackMessenger)
    app.messengers["slack"] = messenger  # the same dict the outbox sender reads
    link = messenger.link
    channel = SlackChannel(link, messenger, app.router, app.services, app.settings.public_url)
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
        running["roster"] = asyncio.create_task(_keep_roster(app, channel))

    async def on_cleanup(_: web.Application) -> None:
        task = running.get("roster")
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if "socket" in running:
            await running["socket"].close_async()
        await channel.after.drain()
        await link.close()

    web_app.on_startup.append(on_startup)
    web_app.on_cleanup.insert(0, on_cleanup)  # before the database goes away


async def _keep_roster(
    app: Pulsecoach,
    channel: SlackChannel,
    every: float | None = None,
    retry: float | None = None,
) -> None:
    """Match people and refresh time zones at start and twice a day, on the leader only:
    until this process leads, look again every minute."""
    link = channel.link
    known = False  # the single workspace passed auth.test once
    while True:
        led = False
        try:
            if link.store is None and link.config.bot_token and not known:
                known = await _single_workspace(link, channel)
            if app.lock.held:
                led = True  # a failed pass waits for the next one too, not a minute
                async with link.db.session() as session:
                    teams = [w.external_id for w in await slack_store.slack_workspaces(session)]
                for team in teams:
                    await channel.roster.sync(team)
                channel.actors.forget()
        except Exception:
            log.exception("slack: roster sync failed")
        # Read at each pass, so tests can shorten them.
        pause = (every or ROSTER_SECONDS) if led else (retry or LEADER_RETRY_SECONDS)
        await asyncio.sleep(pause)


async def _single_workspace(link: SlackLink, channel: SlackChannel) -> bool:
    """With SLACK_BOT_TOKEN, the workspace is the token's: make sure we know it, and,
    the token working, bring back addresses an uninstall or a refused token turned off
    (single-workspace mode has no install callback to do it). True once done."""
    try:
        found = await link.sender.auth_test(token=link.config.bot_token)
    except SlackApiError as error:
        log.error("slack: SLACK_BOT_TOKEN refused: %s", slack_error_code(error))
        return False
    team = str(found["team_id"])
    async with link.db.session() as session:
        await slack_store.ensure_workspace(session, team, str(found["team"]))
        back = await slack_store.reactivate_team(session, team, INSTALL_REASONS)
    if back:
        channel.actors.forget()
        log.info("slack: the bot token works in team %s: %d addresses active again", team, back)
    return True
