"""Digest charts for every channel: the image resolver behind `Image.attachment` keys
(channels that upload files, like Slack) and GET /charts/digests/{id}-{token}.png.

The local web page shows images from http(s) URLs only, and Teams fetches card images
by URL. The token is the digest's own random `chart_token`, so a chart cannot be found
by counting ids; charts show only thresholded aggregates all the same."""

from __future__ import annotations

import hmac
import re

from aiohttp import web

from bot.core.images import ImageFile, ImageResolver
from handlers.context import Services
from handlers.digests.chart import digest_chart_png
from handlers.digests.view import attachment_digest
from storage.digests import queries as digests

_NAME = re.compile(r"^(\d{1,12})-([0-9a-f]{16,64})\.png$")


def chart_images(services: Services) -> ImageResolver:
    """The PNGs behind image attachment keys: a digest's trend chart."""

    async def resolve(key: str) -> ImageFile | None:
        digest_id = attachment_digest(key)
        if digest_id is None:
            return None
        png = await digest_chart_png(services, digest_id)
        return ImageFile(png, f"pulsecoach-digest-{digest_id}-trend.png") if png else None

    return resolve


def mount_charts(web_app: web.Application, services: Services) -> None:
    async def digest_chart(request: web.Request) -> web.Response:
        match = _NAME.match(request.match_info["name"])
        if match is None:
            raise web.HTTPNotFound()
        digest_id, token = int(match[1]), match[2]
        async with services.db.session() as session:
            row = await digests.digest(session, digest_id)
        if row is None or not hmac.compare_digest(row.chart_token, token):
            raise web.HTTPNotFound()
        png = await digest_chart_png(services, digest_id)
        if png is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=png,
            content_type="image/png",
            headers={"Cache-Control": "private, max-age=86400"},
        )

    web_app.router.add_get("/charts/digests/{name}", digest_chart)
