"""Pictures Slack cannot fetch by URL, sent as files instead.

Slack shows an image block only when its servers can fetch the URL (public https); a
pulsecoach server without one would lose the digest's trend chart. Such an image, when
the message names its bytes (`Image.attachment`), is uploaded after the post with
`files_upload_v2` (files.getUploadURLExternal, the upload itself, then
files.completeUploadExternal) into the same DM, in the thread of the message it belongs
to. Each step is paced per workspace like every other call; the upload step is never
retried (a retried completion could share the file twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.core.images import ImageFile
from bot.core.messages import Image, Message
from bot.slack.blockkit import clip
from bot.slack.link import SlackLink
from bot.slack.pacing import Pacer

ALT_TXT = 1000  # files.getUploadURLExternal's alt_txt limit
TITLE = 250


def unshown(message: Message, posted_blocks: Sequence[dict[str, Any]] | None) -> list[Image]:
    """The message's attachable images that the posted blocks do not show: left out as
    unreachable by Slack, dropped after Slack refused them, or cut by the block limit."""
    shown = {b.get("image_url") for b in posted_blocks or () if b.get("type") == "image"}
    return [
        block
        for block in message.blocks
        if isinstance(block, Image) and block.attachment and block.url not in shown
    ]


def method_of(api_url: str) -> str:
    """The Web API method a failed call went to (the last part of its URL)."""
    return api_url.rstrip("/").rsplit("/", 1)[-1] or "files.upload"


class PacedClient(AsyncWebClient):
    """A client whose every Web API call first waits for its slot in the workspace."""

    def __init__(self, pacer: Pacer, team: str, **options: Any) -> None:
        super().__init__(**options)
        self.pacer = pacer
        self.team = team

    async def api_call(self, api_method: str, **options: Any) -> AsyncSlackResponse:
        await self.pacer.wait(self.team, api_method)
        return await super().api_call(api_method, **options)


def paced_client(link: SlackLink, team: str) -> PacedClient:
    """The sending client's settings (pooled session, no retries), paced per call."""
    return PacedClient(
        link.pacer,
        team,
        base_url=link.config.api_url,
        timeout=link.config.timeout,
        session=link.session,
        retry_handlers=[],
    )


async def upload(
    client: PacedClient,
    token: str,
    channel: str,
    thread_ts: str,
    image: Image,
    found: ImageFile,
) -> str | None:
    """Upload one picture into the thread of `thread_ts`; its Slack file id."""
    response = await client.files_upload_v2(
        token=token,
        channel=channel,
        thread_ts=thread_ts,
        file=found.data,
        filename=found.filename,
        title=clip(image.alt, TITLE),
        alt_txt=clip(image.alt, ALT_TXT),
    )
    shared: Iterable[dict[str, Any]] = response.get("files") or []
    return next((str(f.get("id")) for f in shared), None)
