"""No 5xx from input on /slack/events, fuzzed through the real aiohttp route against the
app and the Slack stand-in.

- Unsigned, tampered and stale requests get 401 whatever the body (bytes of any kind,
  any content type), with at most one log line and no traceback.
- Correctly signed payloads of every kind we handle (block actions, view submissions,
  slash commands, events), mutated at any path to any JSON value, get 2xx or 4xx, and
  neither the request nor the work after the ack logs a traceback or an error.

Bounded (max_examples, one server per test) so the whole set stays well under a minute.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.messages import TextInput
from bot.slack import inbound
from bot.slack.forms import Form, modal
from tests.support.clock import FakeClock
from tests.support.slack.helpers import (
    SECRET,
    SlackOrg,
    block_action,
    event_body,
    interactive_body,
    signed_headers,
    slack_org,
    slash_body,
    view_submission,
)

FUZZ = settings(
    max_examples=int(os.environ.get("PULSECOACH_FUZZ_EXAMPLES", "200")),
    deadline=None,  # one example is a few HTTP round trips; the count bounds the time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


@pytest.fixture
def quiet_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every refusal may log (its line is what we count), not one a minute."""
    monkeypatch.setattr(inbound, "REFUSALS", inbound.Refusals(every=0.0))


class Logs(logging.Handler):
    """What the app logged during one request and the work after it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def bad(self) -> list[str]:
        return [
            f"{r.levelname} {r.name}: {r.getMessage()} {r.exc_info[1] if r.exc_info else ''!r}"
            for r in self.records
            if r.exc_info or r.levelno >= logging.ERROR
        ]


@pytest.fixture
def logs() -> Iterator[Logs]:
    handler = Logs()
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


# --- unsigned, tampered, stale ----------------------------------------------------------

CONTENT_TYPES = st.sampled_from(
    ["", "application/json", "application/x-www-form-urlencoded", "text/plain; charset=latin-1"]
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"",
            b"{",
            b"[]",
            b"null",
            b"payload=%7B",
            b"payload=%5B%5D",
            b"payload=null",
            b"\xff\xfe{}",
            b'{"type": "event_callback", "event": []}',
            b'{"type": 1}',
            b"[" * 5000,
            b'payload={"type":"block_actions","actions":"x"}',
        ]
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    ).map(lambda value: json.dumps(value).encode()),
)


@st.composite
def unsigned_headers(draw: st.DrawFn, body: bytes) -> dict[str, str]:
    content_type = draw(CONTENT_TYPES)
    text = body.decode("utf-8", "replace")
    kind = draw(st.sampled_from(["none", "tampered", "stale", "future", "secret", "junk"]))
    if kind == "none":
        headers = {}
    elif kind == "tampered":
        headers = signed_headers(text + "x")
    elif kind == "stale":
        headers = signed_headers(text, timestamp=int(time.time()) - 400)
    elif kind == "future":
        headers = signed_headers(text, timestamp=int(time.time()) + 400)
    elif kind == "secret":
        headers = signed_headers(text, secret="not-the-secret")
    else:
        headers = {
            "X-Slack-Request-Timestamp": draw(st.sampled_from(["", "abc", "١٢٣", "-1", "9" * 30])),
            "X-Slack-Signature": draw(st.sampled_from(["", "v0=", "v0=zz", "é"])),
        }
    if content_type:
        headers["Content-Type"] = content_type
    else:
        headers.pop("Content-Type", None)
    return headers


@FUZZ
@given(data=st.data(), body=BODIES)
async def test_unsigned_tampered_or_stale_requests_get_401_and_one_line_at_most(
    org: SlackOrg, logs: Logs, quiet_refusals: None, data: st.DataObject, body: bytes
) -> None:
    headers = data.draw(unsigned_headers(body))
    logs.records.clear()
    response = await org.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401, await response.text()
    await org.settle()
    ours = [r for r in logs.records if r.name.startswith(("bot.", "slack_bolt"))]
    assert len(ours) <= 1 and logs.bad() == [], [r.getMessage() for r in ours]
    assert [c.method for c in org.standin.calls if c.method != "auth.test"] == []


# --- correctly signed, malformed -------------------------------------------------------

SAFE_TEXT = st.text(
    # No "/": a mutated response_url can never become a URL the app would fetch.
    alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)),
    max_size=12,
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | SAFE_TEXT
    | st.sampled_from(["", "\x00", "x" * 70, "x" * 40_001, "{}", "[]", '{"a":1}', "null"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SAFE_TEXT, inner, max_size=3),
    max_leaves=6,
)


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*at, index))


@st.composite
def mutated(draw: st.DrawFn, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` with one to three of its values replaced by any JSON, or removed."""
    payload = json.loads(json.dumps(payload))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(payload))[1:]))
        parent = payload
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(JSON)
    return payload


def a_modal() -> dict[str, Any]:
    form = Form("pulse.comment", "1", "Send", (TextInput(input_id="comment", label="Comment"),))
    return modal(form, {"a": "pulse.comment", "v": "1", "k": "message", "ch": "DUANA"})


def templates(org: SlackOrg) -> dict[str, dict[str, Any]]:
    url = org.standin.response_url()
    return {
        "block_actions": block_action("UANA", "home.help#1", "", response_url=url),
        "opener": block_action(
            "UANA", "pc.form#1", Form("pulse.comment", "1", "Send", ()).encode(), response_url=url
        ),
        "view_submission": view_submission("UANA", a_modal(), {"comment": "hi"}),
        "message": json.loads(
            event_body(
                {
                    "type": "message",
                    "channel_type": "im",
                    "user": "UANA",
                    "channel": "DUANA",
                    "text": "help",
                    "ts": "1.0",
                }
            )
        ),
        "app_home_opened": json.loads(
            event_body({"type": "app_home_opened", "user": "UANA", "tab": "home"})
        ),
        "tokens_revoked": json.loads(
            event_body({"type": "tokens_revoked", "tokens": {"oauth": ["UANA"], "bot": []}})
        ),
    }


KINDS = st.sampled_from(
    ["block_actions", "opener", "view_submission", "message", "app_home_opened", "tokens_revoked"]
)


async def post_signed(org: SlackOrg, body: str, content_type: str = "") -> Any:
    headers = signed_headers(body, content_type=content_type)
    return await org.client.post("/slack/events", data=body.encode(), headers=headers)


@FUZZ
@given(data=st.data(), kind=KINDS, interactive=st.booleans())
async def test_signed_malformed_payloads_get_2xx_or_4xx_and_no_traceback(
    org: SlackOrg, logs: Logs, data: st.DataObject, kind: str, interactive: bool
) -> None:
    payload = data.draw(mutated(templates(org)[kind]))
    if "event" in templates(org)[kind] or not interactive:
        body, content_type = json.dumps(payload), "application/json"
    else:
        body, content_type = interactive_body(payload), ""
    if isinstance(payload.get("event_id"), str):  # each event fresh, not a dedupe hit
        payload["event_id"] = payload["event_id"] + str(time.monotonic_ns())
        body = json.dumps(payload)
    logs.records.clear()
    response = await post_signed(org, body, content_type)
    assert response.status < 500, await response.text()
    await org.settle()
    assert logs.bad() == []


SLASH_FIELDS = st.dictionaries(
    st.sampled_from(["command", "text", "team_id", "user_id", "channel_id", "trigger_id", "x"]),
    st.text(
        alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), max_size=50
    )
    | st.sampled_from(["\x00", "a" * 40_001, "/pulse"]),
    max_size=4,
)


@FUZZ
@given(fields=SLASH_FIELDS, drop=st.sets(st.sampled_from(["team_id", "user_id", "text"])))
async def test_signed_malformed_slash_commands_get_2xx_or_4xx_and_no_traceback(
    org: SlackOrg, logs: Logs, fields: dict[str, str], drop: set[str]
) -> None:
    base = dict(parse_qsl(slash_body("UANA", "help", org.standin.response_url())))
    base.update(fields)
    for name in drop:
        base.pop(name, None)
    logs.records.clear()
    response = await post_signed(org, urlencode(base))
    assert response.status < 500, await response.text()
    await org.settle()
    assert logs.bad() == []


def signed_bytes(body: bytes, content_type: str) -> dict[str, str]:
    """Headers signing the bytes themselves (the helpers sign text)."""
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}
    return {**headers, "Content-Type": content_type} if content_type else headers


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES)
async def test_signed_bodies_of_any_bytes_get_2xx_or_4xx_and_no_traceback(
    org: SlackOrg, logs: Logs, body: bytes, content_type: str
) -> None:
    logs.records.clear()
    headers = signed_bytes(body, content_type)
    response = await org.client.post("/slack/events", data=body, headers=headers)
    assert response.status < 500, await response.text()
    await org.settle()
    assert logs.bad() == []
