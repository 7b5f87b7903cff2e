"""The Slack Messenger: posts to a user id (Slack opens the app's DM by itself), updates
in place a message whose ref the person already has, paces each workspace, and sorts
failures into "try again" and "this address is gone".

Nothing is sent twice: before a post, its (person, ref) is marked as under way; when
the outcome is unknown (timeout, 5xx, a crash) the next attempt looks for the message
in the conversation (every post carries its ref as metadata) instead of posting again.

A picture Slack cannot fetch by URL, when the message names its bytes, follows a fresh
post as a file in its thread (files.py): once, on the attempt that posted the message;
an upload that fails is logged and never fails or repeats the delivery.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackTokenRotationError

from bot.core.images import ImageResolver
from bot.core.messages import Message
from bot.core.messenger import (
    Delivery,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    check_fence,
)
from bot.slack import files
from bot.slack.link import SlackLink, refresh_refused
from bot.slack.reasons import NOT_INSTALLED
from bot.slack.render import render_message
from bot.slack.responses import (
    UNREADABLE,
    rate_limited,
    retry_after,
    slack_error_code,
    slack_status,
)
from storage.channels import slack as slack_store
from storage.core import directory

log = logging.getLogger(__name__)

METADATA_TYPE = "pulsecoach_message"
# The person cannot be reached at this address, whatever we retry.
GONE = {
    "user_not_found",
    "users_not_found",
    "user_disabled",
    "channel_not_found",
    "is_archived",
    "cannot_dm_bot",
    "messages_tab_disabled",
}
# The workspace's token no longer works: every address in it is gone until a reinstall.
UNAUTHORISED = set(
    "not_authed invalid_auth account_inactive token_revoked token_expired no_permission "
    "team_access_not_granted team_not_found ekm_access_denied missing_scope "
    "org_login_required".split()
)
# Our payload was refused: worth one try as plain text before retrying later.
BAD_PAYLOAD = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "invalid_arguments"}
# Slack's own trouble; the post may or may not have happened.
UNCERTAIN = {"internal_error", "fatal_error", "request_timeout", "service_unavailable"}
UNAUTHORISED_REASON = "slack: workspace token refused"
CHECK_AFTER = 1.0  # seconds before an uncertain post is looked for


def content_version(payload: dict[str, Any]) -> str:
    """A short digest of a rendered message, carried in its metadata: a post found after
    an unknown outcome needs no update when it already shows this content."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class _Uncertain(Exception):
    """The call may have taken effect: look before trying again."""


class _BadPayload(Exception):
    """Slack refused our blocks; the message can still go as plain text."""


class _NoSuchMessage(Exception):
    """The message to update is gone; post it anew."""


class SlackMessenger:
    channel = "slack"
    paced = True  # Slack's post limit is per workspace: one process sends it (Messenger)

    def __init__(self, link: SlackLink, images: ImageResolver | None = None) -> None:
        self.link = link
        self.db = link.db
        self.images = images  # the bytes behind Image.attachment keys, for uploads
        # A lane taken over from another process waits one post's slot after it stopped
        # (see Messenger): Slack counts the workspace's minute, our pacer only our posts.
        self.handover_seconds = 60.0 / link.pacer.per_minute["chat.postMessage"]

    async def deliver(
        self, person_id: int, address: dict[str, Any], message: Message, fresh: bool = False
    ) -> Delivery:
        """Post, or update the person's message with this ref. `fresh` always posts (an
        answer in a conversation belongs at its end); later updates go to the new one."""
        user = str(address.get("user_id") or "")
        if not user:
            raise PermanentDeliveryError("slack address without user_id")
        team = str(address.get("team_id") or await self._team_of(person_id))
        token = await self._token(team)
        if fresh:
            return await self._post(token, team, user, person_id, message)
        async with self.db.session() as session:
            known = await slack_store.message_at(session, person_id, message.ref)
            if known is None:  # the usual case, a fresh post: marked in the same go
                await slack_store.begin_post(session, person_id, message.ref, datetime.now(UTC))
        if known is None:
            return await self._post(token, team, user, person_id, message, marked=True)
        channel, ts = known.channel, known.ts
        if ts is None:
            channel, ts, version = await self._find_posted(
                token, team, user, person_id, message.ref
            )
            if channel and ts:  # posted by an attempt that never learnt so
                rendered = render_message(message)
                # The very content already there: an update would only wait on
                # chat.update's tier-3 pace while the workspace's posts queue behind it.
                if version == content_version(rendered.payload()) or await self._update(
                    token, team, person_id, channel, ts, message
                ):
                    await self._attach(token, team, message, channel, ts, rendered.blocks)
                    return Delivery({"team_id": team, "channel": channel, "ts": ts})
                return await self._post(token, team, user, person_id, message)
        if channel and ts and await self._update(token, team, person_id, channel, ts, message):
            return Delivery({"team_id": team, "channel": channel, "ts": ts})
        return await self._post(token, team, user, person_id, message)

    async def update_existing(self, person_id: int, team: str, message: Message) -> bool:
        """Update the person's copy of this ref if there is one (never posts)."""
        async with self.db.session() as session:
            known = await slack_store.message_at(session, person_id, message.ref)
        if known is None or not known.channel or not known.ts:
            return False
        token = await self._token(team)
        return await self._update(token, team, person_id, known.channel, known.ts, message)

    async def _team_of(self, person_id: int) -> str:
        async with self.db.session() as session:
            person = await directory.person(session, person_id)
            workspace = await directory.workspace(session, person.workspace_id) if person else None
        if workspace is None or workspace.channel != "slack":
            raise PermanentDeliveryError("the person is not in a Slack workspace")
        return workspace.external_id

    async def _token(self, team: str) -> str:
        try:
            token = await self.link.bot_token(team)
        except (SlackApiError, SlackTokenRotationError) as error:
            api_error = error.api_error if isinstance(error, SlackTokenRotationError) else error
            code = slack_error_code(api_error)
            if refresh_refused(api_error):  # for good: every address waits for a reinstall
                log.warning("Slack refused to refresh the bot token of team %s: %s", team, code)
                raise PermanentDeliveryError(UNAUTHORISED_REASON) from None
            # Slack's passing trouble (5xx, 429, a cut-off answer): the token is still
            # good for the next try, and a 429 is a pace, not a failed attempt.
            wait = retry_after(api_error) if rate_limited(api_error) else None
            raise TemporaryDeliveryError(f"slack token refresh: {code}", retry_after=wait) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TemporaryDeliveryError(f"slack token refresh: {type(error).__name__}") from None
        if not token:
            raise PermanentDeliveryError(NOT_INSTALLED)
        return token

    async def _post(
        self,
        token: str,
        team: str,
        user: str,
        person_id: int,
        message: Message,
        marked: bool = False,  # the caller marked it under way already
    ) -> Delivery:
        rendered = render_message(message)
        payload = rendered.payload()
        if not marked:
            async with self.db.session() as session:
                await slack_store.begin_post(session, person_id, message.ref, datetime.now(UTC))
        args: dict[str, Any] = {
            "token": token,
            "channel": user,
            **payload,
            "unfurl_links": False,
            "unfurl_media": False,
            "metadata": {
                "event_type": METADATA_TYPE,
                "event_payload": {
                    "ref": message.ref,
                    "version": content_version(payload),
                },
            },
        }
        try:
            try:
                response = await self._call(team, "chat.postMessage", args)
                posted = args["blocks"]
            except _BadPayload:
                response, posted = await self._post_plainer(team, args, message.ref)
        except _Uncertain as unknown:  # keep the mark: the next attempt looks first
            # Soon: the look (conversations.*) has its own tier, and goes beside the
            # lane's fresh posts; only a post found missing takes a post's slot again.
            raise TemporaryDeliveryError(
                str(unknown), retry_after=CHECK_AFTER, rate_limited=False
            ) from None
        except (_BadPayload, _NoSuchMessage) as refused:
            await self._forget(person_id, message.ref)
            raise TemporaryDeliveryError(str(refused)) from None
        except (TemporaryDeliveryError, PermanentDeliveryError):
            await self._forget(person_id, message.ref)  # certainly not posted
            raise
        channel, ts = str(response["channel"]), str(response["ts"])
        async with self.db.session() as session:
            await slack_store.record_post(session, person_id, message.ref, channel, ts)
        await self._attach(token, team, message, channel, ts, posted)
        return Delivery({"team_id": team, "channel": channel, "ts": ts})

    async def _post_plainer(
        self, team: str, args: dict[str, Any], ref: str
    ) -> tuple[Any, list[dict[str, Any]]]:
        """Slack refused the blocks (an image it could not fetch, most likely): again
        without images, keeping the buttons; at last as plain text. Also the blocks
        that went."""
        without_images = [b for b in args["blocks"] if b.get("type") != "image"]
        if len(without_images) < len(args["blocks"]):
            try:
                response = await self._call(
                    team, "chat.postMessage", args | {"blocks": without_images}
                )
                return response, without_images
            except _BadPayload:
                pass
        log.error("Slack refused the blocks of %s; sending it as text", ref)
        response = await self._call(
            team, "chat.postMessage", {k: v for k, v in args.items() if k != "blocks"}
        )
        return response, []

    async def _attach(
        self,
        token: str,
        team: str,
        message: Message,
        channel: str,
        ts: str,
        posted: list[dict[str, Any]],
    ) -> None:
        """Upload the pictures the post could not show into its thread. The message is
        out already: a failure here is logged, never raised, and never retried."""
        if self.images is None:
            return
        for image in files.unshown(message, posted):
            assert image.attachment is not None
            try:
                found = await self.images(image.attachment)
                if found is None:
                    continue
                client = files.paced_client(self.link, team)
                await files.upload(client, token, channel, ts, image, found)
            except SlackApiError as error:
                method = files.method_of(str(getattr(error.response, "api_url", "")))
                code = self._code(error)
                self._ratelimited(team, method, error)  # a 429 holds the method's later calls
                hint = (
                    " (reinstall the app to grant files:write)" if code == "missing_scope" else ""
                )
                log.warning(
                    "slack: could not upload the image of %s: slack %s: %s%s",
                    message.ref,
                    method,
                    code,
                    hint,
                )
            except (SlackClientError, TimeoutError, aiohttp.ClientError) as error:
                # SlackClientError: the upload URL itself refused the bytes (not a 200)
                log.warning(
                    "slack: could not upload the image of %s: file upload: %s",
                    message.ref,
                    type(error).__name__,
                )
            except Exception:  # drawing the picture failed: the text sparkline stays
                log.warning("slack: no image for %s", message.ref, exc_info=True)

    async def _update(
        self, token: str, team: str, person_id: int, channel: str, ts: str, message: Message
    ) -> bool:
        """Update in place; False when the old message is gone (then we post anew)."""
        args = {"token": token, "channel": channel, "ts": ts, **render_message(message).payload()}
        try:
            await self._call(team, "chat.update", args)
        except (_Uncertain, _BadPayload) as failed:  # an update is safe to repeat
            raise TemporaryDeliveryError(str(failed)) from None
        except _NoSuchMessage:
            await self._forget(person_id, message.ref, any_state=True)
            return False
        return True

    async def _find_posted(
        self, token: str, team: str, user: str, person_id: int, ref: str
    ) -> tuple[str | None, str | None, str | None]:
        """Look in the DM for an earlier post of this ref whose outcome we never learnt:
        its channel, ts and content version."""
        async with self.db.session() as session:
            channel = await slack_store.dm_channel(session, person_id)
            mark = await slack_store.message_at(session, person_id, ref)
        since = (mark.attempted_at if mark and mark.attempted_at else datetime.now(UTC)) - (
            timedelta(minutes=5)
        )
        try:
            if channel is None:
                opened = await self._call(
                    team, "conversations.open", {"token": token, "users": user}
                )
                channel = str(opened["channel"]["id"])
            history = await self._call(
                team,
                "conversations.history",
                {
                    "token": token,
                    "channel": channel,
                    "oldest": f"{since.timestamp():.6f}",
                    "include_all_metadata": True,
                    "limit": 100,
                },
            )
        except (_Uncertain, _BadPayload, _NoSuchMessage) as failed:
            raise TemporaryDeliveryError(str(failed)) from None
        for found in history.get("messages", []):
            metadata = found.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_TYPE and payload.get("ref") == ref:
                async with self.db.session() as session:
                    await slack_store.record_post(session, person_id, ref, channel, found["ts"])
                return channel, str(found["ts"]), payload.get("version")
        return None, None, None

    async def _call(self, team: str, method: str, args: dict[str, Any]) -> Any:
        """One paced call; its failure as a delivery error (or _Uncertain)."""
        await self.link.pacer.wait(team, method, args.get("channel"))
        check_fence()  # the lane's lease may have run out while we waited for the slot
        try:
            # A copy: slack_sdk pops the token out of the body it is given.
            return await self.link.sender.api_call(method, json=dict(args))
        except SlackApiError as error:
            raise self._classify(team, method, error) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise _Uncertain(f"slack {method}: {type(error).__name__}") from None

    @staticmethod
    def _code(error: SlackApiError) -> str:
        return slack_error_code(error)

    def _ratelimited(self, team: str, method: str, error: SlackApiError) -> float | None:
        """A 429: hold this method in this workspace for Retry-After seconds."""
        if not rate_limited(error):
            return None
        wait = retry_after(error)
        self.link.pacer.hold(team, method, wait)
        return wait

    def _classify(self, team: str, method: str, error: SlackApiError) -> Exception:
        status = slack_status(error)
        code = self._code(error)
        reason = f"slack {method}: {code}"
        if (retry_after := self._ratelimited(team, method, error)) is not None:
            return TemporaryDeliveryError(reason, retry_after=retry_after)
        if code in UNAUTHORISED:
            log.warning("Slack team %s refused our token (%s)", team, code)
            return PermanentDeliveryError(UNAUTHORISED_REASON)
        if code in GONE:
            return PermanentDeliveryError(reason)
        if code in BAD_PAYLOAD:
            return _BadPayload(reason)
        if code in ("message_not_found", "cant_update_message"):
            return _NoSuchMessage(reason)
        # An unreadable answer (a proxy's page, a cut-off body) says nothing of the call.
        if status >= 500 or code in UNCERTAIN or code == UNREADABLE:
            return _Uncertain(reason)
        return TemporaryDeliveryError(reason)

    async def _forget(self, person_id: int, ref: str, any_state: bool = False) -> None:
        async with self.db.session() as session:
            if any_state:
                await slack_store.forget_location(session, person_id, ref)
            else:
                await slack_store.forget_post(session, person_id, ref)
