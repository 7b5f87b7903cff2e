"""Block Kit's limits and its text objects, escaped and shortened to fit."""

from __future__ import annotations

from typing import Any

from bot.slack.commands import slack_form

MESSAGE_BLOCKS = 50
SURFACE_BLOCKS = 100  # a modal or the Home tab
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BLOCK_ID = 255
FALLBACK_TEXT = 3000
ALT_TEXT = 2000
IMAGE_URL = 3000
MODAL_TITLE = 24
MODAL_BUTTON = 24
INPUT_LABEL = 2000
PLACEHOLDER = 150
INPUT_MAX = 3000
PRIVATE_METADATA = 3000


def escape(value: str) -> str:
    """Slack's three control characters, as its docs ask."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(value: str, limit: int) -> str:
    """At most `limit` characters, ending with … when cut (never inside an entity)."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def mrkdwn(value: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(escape(slack_form(value)), limit)}


def plain(value: str, limit: int, emoji: bool = True) -> dict[str, Any]:
    """Plain text is shown as typed (Slack does not parse it), so only shortened."""
    return {"type": "plain_text", "text": clip(value, limit) or " ", "emoji": emoji}


def literal(value: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    """A text object for text people or a model wrote: plain text, so Slack reads no
    formatting, links, mentions or emoji codes in it."""
    return plain(value, limit, emoji=False)
