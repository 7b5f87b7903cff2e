"""A request on /slack/events before bolt sees it.

1. The signature is checked on the raw bytes, before anything is parsed: an unsigned,
   tampered or stale request is refused (401) whatever its body, with one log line at
   most (`Refusals` keeps a flood quiet).
2. The body is parsed as bolt would parse it; what is not a JSON object is a 400. Bolt
   is handed the parsed body (`bolt_request`) rather than parsing it again.
3. Its shape is checked where bolt's context builder, its matchers and our listeners
   read it (`problem`). Slack itself never sends such a payload, but it is signed: it
   is acknowledged (200, else Slack retries it) and ignored, never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.body import read

log = logging.getLogger(__name__)

STALE_SECONDS = 300  # Slack: reject a timestamp more than five minutes from now
EVENT_ID_MAX = 64  # the slack_event.event_id column
TEXT_MAX = 40_000  # Slack's own limit for a message's text; no string of theirs is longer
DEPTH_MAX = 32  # Block Kit nests a few levels; Slack's payloads never this deep
QUIET_SECONDS = 60.0

NONE = type(None)
ID = (str, NONE)
ID_OR_OBJECT = (str, dict, NONE)

# Where present, these keys must have these types (None is allowed where Slack sends
# null). Nested objects are checked against their own table.
TOP: dict[str, tuple[type, ...]] = {
    # What bolt's matchers compare with a pattern: text, never null.
    **dict.fromkeys(("type", "callback_id", "command", "action_id", "trigger_id"), (str,)),
    **dict.fromkeys(
        (
            "token team_id enterprise_id api_app_id user_id channel_id text response_url "
            "event_id thread_ts function_execution_id bot_access_token context_team_id "
            "context_enterprise_id"
        ).split(),
        ID,
    ),
    "is_enterprise_install": (bool, str, NONE),
    "is_ext_shared_channel": (bool, NONE),
    **dict.fromkeys(("team", "enterprise", "user", "channel"), ID_OR_OBJECT),
    **dict.fromkeys(("authorizations", "actions"), (list, NONE)),
    "response_urls": (list,),
    "event": (dict,),
    **dict.fromkeys(
        (
            "view container state message previous_message item assistant_thread function_data"
        ).split(),
        (dict, NONE),
    ),
}
OBJECT_IDS: dict[str, tuple[type, ...]] = dict.fromkeys(
    ("id", "team_id", "enterprise_id", "user_id", "domain", "name"), ID
)
EVENT: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        (
            "type subtype text channel_type bot_id tab team user_team thread_ts ts "
            "function_execution_id bot_access_token"
        ).split(),
        ID,
    ),
    **dict.fromkeys(("user", "channel"), ID_OR_OBJECT),
    **dict.fromkeys(
        ("message", "previous_message", "item", "assistant_thread", "tokens", "inputs"),
        (dict, NONE),
    ),
}
MESSAGE: dict[str, tuple[type, ...]] = {
    "user": ID_OR_OBJECT,
    "channel": ID_OR_OBJECT,
    **dict.fromkeys(("thread_ts", "ts", "text"), ID),
}
VIEW: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("type", "callback_id"), (str,)),
    **dict.fromkeys(
        (
            "id private_metadata team_id app_installed_team_id hash external_id "
            "root_view_id previous_view_id"
        ).split(),
        ID,
    ),
    "state": (dict, NONE),
    "blocks": (list, NONE),
}
ACTION: dict[str, tuple[type, ...]] = dict.fromkeys(
    ("type", "action_id", "block_id", "value", "action_ts"), ID
)
CONTAINER: dict[str, tuple[type, ...]] = dict.fromkeys(
    ("type", "message_ts", "channel_id", "view_id"), ID
)


class Malformed(ValueError):
    """A signed body that is not a payload at all (400)."""


def verify(
    secret: str, raw: bytes, headers: Mapping[str, str], now: float | None = None
) -> str | None:
    """Why this request is not Slack's (unsigned, stale or the wrong signature), or None."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not stamp or not signature:
        return "unsigned"
    if not (stamp.isascii() and stamp.isdigit()):
        return "a malformed timestamp"
    if abs((time.time() if now is None else now) - int(stamp)) > STALE_SECONDS:
        return "a stale timestamp"
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256)
    expected = b"v0=" + digest.hexdigest().encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape")):
        return "a wrong signature"
    return None


def parse(raw: bytes, content_type: str | None) -> tuple[str, dict[str, Any], str | None]:
    """The body as text, as bolt will read it, and the JSON text it was read from (None
    for a plain form); `Malformed` when it is no payload."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8 text") from None
    try:
        body, source = read(text, content_type.split(";")[0] if content_type else None)
    except (ValueError, RecursionError):  # json.JSONDecodeError is a ValueError
        raise Malformed("the body is neither JSON nor a form with a JSON payload") from None
    if not isinstance(body, dict):
        raise Malformed("the payload is not a JSON object")
    return text, body, source


def problem(body: dict[str, Any], source: str | None = None) -> str | None:
    """What in a parsed payload bolt or our listeners could not read, or None. `source`
    is the JSON text the body was read from, where there is one (see `_strings`)."""
    return _types(body, TOP, "") or _required(body) or _nested(body) or _strings(body, source)


def bolt_request(
    text: str, body: dict[str, Any], query: str, headers: Mapping[str, str]
) -> AsyncBoltRequest:
    """The AsyncBoltRequest bolt would build from the text, built from the body parsed
    already: bolt parses a str body (the form, the JSON) every time, but takes a dict
    as it is in Socket Mode. Built as such, then made the HTTP request it is: the raw
    text kept (a lazy listener's copy parses it again) and the mode bolt checks."""
    normalized: dict[str, str | Sequence[str]] = dict(headers)
    request = AsyncBoltRequest(body=body, query=query, headers=normalized, mode="socket_mode")
    request.raw_body = text
    request.mode = "http"
    return request


def _types(obj: Mapping[str, Any], table: Mapping[str, tuple[type, ...]], at: str) -> str | None:
    for key, value in obj.items():  # a payload has fewer keys than TOP lists
        allowed = table.get(key)
        if allowed is not None and not isinstance(value, allowed):
            return f"{at}{key} is a {type(value).__name__}"
    return None


def _objects(value: Any) -> list[dict[str, Any]]:
    return [value] if isinstance(value, dict) else []


def _nested(body: dict[str, Any]) -> str | None:
    checks: list[tuple[Any, Mapping[str, tuple[type, ...]], str]] = []
    for key in ("team", "enterprise", "user", "channel"):
        checks += [(o, OBJECT_IDS, f"{key}.") for o in _objects(body.get(key))]
    for index, item in enumerate(body.get("authorizations") or []):
        if not isinstance(item, dict):
            return f"authorizations[{index}] is not an object"
        checks.append((item, {**OBJECT_IDS, "is_enterprise_install": (bool, NONE)}, "auth."))
    for index, item in enumerate(body.get("response_urls") or []):
        if not isinstance(item, dict):
            return f"response_urls[{index}] is not an object"
    for index, action in enumerate(body.get("actions") or []):
        if not isinstance(action, dict):
            return f"actions[{index}] is not an object"
        checks.append((action, ACTION, f"actions[{index}]."))
    event = body.get("event")
    for message in ("message", "previous_message", "item"):
        checks += [(o, MESSAGE, f"{message}.") for o in _objects(body.get(message))]
    if isinstance(event, dict):
        checks.append((event, EVENT, "event."))
        for key in ("user", "channel"):
            checks += [(o, OBJECT_IDS, f"event.{key}.") for o in _objects(event.get(key))]
        for message in ("message", "previous_message", "item"):
            checks += [(o, MESSAGE, f"event.{message}.") for o in _objects(event.get(message))]
    checks += [(o, VIEW, "view.") for o in _objects(body.get("view"))]
    checks += [(o, CONTAINER, "container.") for o in _objects(body.get("container"))]
    for obj, table, at in checks:
        wrong = _types(obj, table, at)
        if wrong:
            return wrong
    view = body.get("view") or {}
    for state, at in ((body.get("state"), "state"), (view.get("state"), "view.state")):
        wrong = _state(state, at)
        if wrong:
            return wrong
    if any(not isinstance(block, dict) for block in view.get("blocks") or []):
        return "view.blocks holds something other than objects"
    return None


def _state(state: Any, at: str) -> str | None:
    """`state.values`: block id -> action id -> element object."""
    if not isinstance(state, dict) or "values" not in state:
        return None
    values = state["values"]
    if not isinstance(values, dict):
        return f"{at}.values is a {type(values).__name__}"
    for actions in values.values():
        if not isinstance(actions, dict) or not all(
            isinstance(element, dict) for element in actions.values()
        ):
            return f"{at}.values holds something other than objects of objects"
    return None


# The payload types pulsecoach listens to (slash commands have no type); bolt reads the
# others (legacy attachments, dialogs, workflow steps) with assumptions of their own.
KINDS = frozenset(
    "block_actions view_submission view_closed shortcut message_action event_callback "
    "url_verification app_rate_limited".split()
)


def _required(body: dict[str, Any]) -> str | None:
    """What each kind of payload our listeners handle cannot do without."""
    kind = body.get("type")
    if kind is None and "command" not in body and "ssl_check" not in body:
        return "neither a type nor a command"
    if kind is not None and kind not in KINDS:
        return f"a {kind[:40]} payload, which pulsecoach does not use"
    user = body.get("user")
    if kind in ("block_actions", "view_submission", "view_closed") and not (
        isinstance(user, dict) and isinstance(user.get("id"), str)
    ):
        return f"{kind} without user.id"
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        if not isinstance(first, dict):
            return "block_actions without actions"
        if not isinstance(first.get("action_id"), str):
            return "block_actions without an action id"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not (isinstance(view, dict) and isinstance(view.get("callback_id"), str)):
            return f"{kind} without a view callback id"
        if not isinstance(view.get("type"), str) or view["type"] == "workflow_step":
            return f"{kind} of a view that is not a modal"
    if kind == "event_callback":
        event = body.get("event")
        if not (isinstance(event, dict) and isinstance(event.get("type"), str)):
            return "event_callback without an event type"
        if len(str(body.get("event_id") or "")) > EVENT_ID_MAX:
            return f"event_id longer than {EVENT_ID_MAX} characters"
        if event["type"] == "message" and not isinstance(event.get("channel"), str):
            return "message event without a channel"
        if event["type"] == "app_home_opened" and not isinstance(event.get("user"), str):
            return "app_home_opened without a user"
        tokens = event.get("tokens") or {}
        if not isinstance(tokens, dict) or any(
            not isinstance(tokens.get(k) or [], list) for k in ("oauth", "bot")
        ):
            return "tokens_revoked with tokens that are not lists"
    return None


def _strings(body: dict[str, Any], source: str | None = None) -> str | None:
    """No NUL character (PostgreSQL cannot store one), no string longer than Slack
    allows, no nesting deeper than Slack's.

    Read from JSON text (`source`), a body has no NUL where the text has no `\\u0000`
    (json refuses a raw control character in a string), no string longer than the
    text, and no container nested deeper than the text has opening brackets: a click
    passes on the text alone, in ~2 µs, where the walk item by item costs ~20 µs."""
    if source is None or len(source) > TEXT_MAX or "\\u0000" in source:
        return _walk(body)
    if source.count("{") + source.count("[") > DEPTH_MAX and _deeper(body):
        return f"nested deeper than {DEPTH_MAX} levels"
    return None


def _deeper(body: dict[str, Any]) -> bool:
    """A container at depth DEPTH_MAX (the body's is 0): one level at a time."""
    level: list[Any] = [body]
    for _ in range(DEPTH_MAX):
        level = [
            item
            for value in level
            for item in (value.values() if isinstance(value, dict) else value)
            if isinstance(item, dict | list)
        ]
        if not level:
            return False
    return True


def _walk(body: dict[str, Any]) -> str | None:
    """Every string and container, without recursion."""
    stack: list[tuple[Any, int]] = [(body, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return "a string holds a NUL character"
            if len(value) > TEXT_MAX:
                return f"a string is longer than {TEXT_MAX:,} characters"
        elif isinstance(value, dict | list):
            if depth >= DEPTH_MAX:
                return f"nested deeper than {DEPTH_MAX} levels"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                stack.append((key, depth))
                stack.append((item, depth + 1))
    return None


class Refusals:
    """One log line for a refused request, then at most one a minute, with a count."""

    def __init__(self, every: float = QUIET_SECONDS) -> None:
        self.every = every
        self._last = -every
        self._quiet = 0

    def refused(self, why: str, remote: str | None) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            self._quiet += 1
            return
        more = f" ({self._quiet} more refused since the last line)" if self._quiet else ""
        log.warning("slack: refused a request from %s: %s%s", remote or "?", why, more)
        self._last, self._quiet = now, 0


REFUSALS = Refusals()  # one per process: the log is the process's
