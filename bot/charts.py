"""Chart images over HTTP: GET /charts/digests/{id}-{token}.png.

The local web page shows images from http(s) URLs only, and Teams fetches card images
by URL. The token is the digest's own random `chart_token`, so a chart cannot be found
by counting ids; charts show only thresholded aggregates all the same."""

from __future__ import annotations

import hmac
import re
from typing import TYPE_CHECKING

from aiohttp import web

from handlers.digests.chart import digest_chart_png
from storage.digests import queries as digests

if TYPE_CHECKING:
    from bot.app import Pulsecoach

_NAME = re.compile(r"^(\d{1,12})-([0-9a-f]{16,64})\.png$")


def setup_charts(web_app: web.Application, app: Pulsecoach) -> None:
    async def digest_chart(request: web.Request) -> web.Response:
        match = _NAME.match(request.match_info["name"])
        if match is None:
            raise web.HTTPNotFound()
        digest_id, token = int(match[1]), match[2]
        async with app.db.session() as session:
            row = await digests.digest(session, digest_id)
        if row is None or not hmac.compare_digest(row.chart_token, token):
            raise web.HTTPNotFound()
        png = await digest_chart_png(app.services, digest_id)
        if png is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=png,
            content_type="image/png",
            headers={"Cache-Control": "private, max-age=86400"},
        )

    web_app.router.add_get("/charts/digests/{name}", digest_chart)
