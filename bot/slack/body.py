"""A request body read as slack_bolt's `parse_body` reads it, with the same result for
any text, only cheaper: the form's percent escapes are decoded in C, with urllib's
`unquote_plus` as the fallback. (The JSON stays with `json.loads`: orjson is faster but
reads an integer past 64 bits as a float.)

A click is `payload=` and ~1–10 KB of JSON with every quote, brace and colon escaped:
urllib decodes those escapes in Python, one at a time (~50 µs for a small click, most
of the parse). tests/slack/test_inbound_parse.py checks the equality for arbitrary
bodies, malformed escapes and non-ASCII text included.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus


def _c_unquote() -> Callable[[str], str] | None:
    """yarl's C decoder (aiohttp depends on yarl), set to decode as `unquote_plus`
    does: '+' is a space, every escape decoded, invalid UTF-8 written as U+FFFD."""
    try:
        from yarl._quoting_c import _Unquoter
    except ImportError:  # yarl built without its extension (YARL_NO_EXTENSIONS)
        return None
    try:
        unquoter = _Unquoter(plus=True, replace_invalid=True)
    except TypeError:  # a yarl that cannot decode exactly as urllib does
        return None
    if unquoter("%C3+%E2%82%AC%zz%2B") != unquote_plus("%C3+%E2%82%AC%zz%2B"):
        return None
    return unquoter


unquote: Callable[[str], str] = _c_unquote() or unquote_plus


def form(text: str) -> dict[str, str]:
    """`dict(urllib.parse.parse_qsl(text, keep_blank_values=True))`: fields split on
    '&', a field without '=' has an empty value, the last of a repeated name wins."""
    fields: dict[str, str] = {}
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            fields[unquote(name)] = unquote(value)
    return fields


def read(text: str, content_type: str | None) -> tuple[Any, str | None]:
    """slack_bolt.request.internals.parse_body, step for step; also the JSON text the
    body was read from (None for a plain form), which `inbound.problem` checks cheaply."""
    if not text:
        return {}, None
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text), text
    if "payload" in text:
        payload = form(text).get("payload")
        return ({}, None) if payload is None else (json.loads(payload), payload)
    return form(text), None


def parse_body(text: str, content_type: str | None) -> Any:
    """What slack_bolt's `parse_body` returns for this text."""
    return read(text, content_type)[0]
