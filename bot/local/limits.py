"""What the local API accepts, checked before anything reaches a handler or the
database: sizes, characters and integer ranges that SQLite and PostgreSQL would take
differently (PostgreSQL refuses NUL characters in text and JSON, integers over 32 bits
in an INTEGER column, and nobody stores lone UTF-16 surrogates). Every refusal is a 4xx
with a JSON error naming the field and what to send instead."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from aiohttp import web

INT_MAX = 2**31 - 1  # an INTEGER column on PostgreSQL
TEXT_MAX = 4000  # a message typed to the bot
VALUE_MAX = 2000  # a button's value (Slack's limit too)
ID_MAX = 200  # action ids, message refs, input ids, handles (the ref column's width)
INPUTS_MAX = 20  # text inputs submitted with one click
DEPTH_MAX = 16


def refuse(status: int, message: str) -> NoReturn:
    """Stop the request with a JSON error."""
    raise _http(status)(text=json.dumps({"error": message}), content_type="application/json")


def _http(status: int) -> type[web.HTTPException]:
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        404: web.HTTPNotFound,
        422: web.HTTPUnprocessableEntity,
    }
    return kinds[status]


def too_large(max_size: int) -> NoReturn:
    """A 413 in JSON, where aiohttp's own is plain text."""
    message = f"request body is larger than {max_size} bytes"
    raise web.HTTPRequestEntityTooLarge(
        max_size=max_size,
        actual_size=max_size + 1,  # at least: aiohttp stopped reading there
        text=json.dumps({"error": message}),
        content_type="application/json",
    )


def text_problem(value: str) -> str | None:
    """Why this text cannot be stored, or None."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (a lone surrogate such as \\ud800)"
    return None


def check_strings(body: Any) -> None:
    """Every string in the request body, keys included, storable; nesting bounded."""
    stack: list[tuple[Any, str, int]] = [(body, "", 0)]
    while stack:
        value, at, depth = stack.pop()
        if isinstance(value, str):
            wrong = text_problem(value)
            if wrong:
                refuse(422, f"field {at or 'body'!r} {wrong}")
        elif isinstance(value, dict | list):
            if depth >= DEPTH_MAX:
                refuse(422, f"the request body is nested deeper than {DEPTH_MAX} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                name = f"{at}.{key}" if at else str(key)
                if isinstance(key, str):
                    stack.append((key, f"{name} (a key)", depth))
                stack.append((item, name, depth + 1))


def text(body: dict[str, Any], name: str, limit: int, required: bool = True) -> str:
    """A string field: non-empty when required, at most `limit` characters."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        kind = "a non-empty string" if required else "a string"
        refuse(422, f"field {name!r} must be {kind}")
    if len(value) > limit:
        refuse(422, f"field {name!r} is longer than {limit} characters")
    return value


def inputs(body: dict[str, Any]) -> dict[str, str]:
    """`inputs`: at most INPUTS_MAX input ids (short) mapped to texts (TEXT_MAX)."""
    value = body.get("inputs")
    if value is None:
        return {}
    if not isinstance(value, dict):
        refuse(422, "field 'inputs' must be an object")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        refuse(422, "field 'inputs' must map input ids to strings")
    if len(value) > INPUTS_MAX:
        refuse(422, f"field 'inputs' has more than {INPUTS_MAX} entries")
    for key, typed in value.items():
        if len(key) > ID_MAX:
            refuse(422, f"an input id in 'inputs' is longer than {ID_MAX} characters")
        if len(typed) > TEXT_MAX:
            refuse(422, f"field 'inputs.{key[:40]}' is longer than {TEXT_MAX} characters")
    return value


def message_id(body: dict[str, Any]) -> int | None:
    """`message_id`: a positive integer that fits the id column, or absent."""
    value = body.get("message_id")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= INT_MAX:
        refuse(422, f"field 'message_id' must be an integer from 1 to {INT_MAX}")
    return value


def handle(value: str) -> str:
    """A persona handle from the URL: a 404 for what no handle can be."""
    if len(value) > ID_MAX or text_problem(value):
        refuse(404, "unknown persona: pick one from GET /api/local/personas")
    return value
