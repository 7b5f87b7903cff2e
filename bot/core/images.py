"""The image resolver port: how a channel gets the bytes behind an `Image.attachment`.

Handlers name a picture with an opaque key (e.g. `digest-chart:12`); a channel that
cannot show the picture by URL asks the resolver for the bytes and sends them as a file.
The resolver is wired where the channel is built, so handlers never learn of channels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple


class ImageFile(NamedTuple):
    data: bytes
    filename: str


# async (attachment key) -> the picture, or None when there is none (any more).
ImageResolver = Callable[[str], Awaitable[ImageFile | None]]
