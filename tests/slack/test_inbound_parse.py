"""The cheaper reading of a request on /slack/events gives what bolt's own would: the
body (C-decoded form, bot/slack/body.py) equals slack_bolt's `parse_body` for any text,
the request handed to bolt equals the one bolt builds from the text, and the shape
check that reads the JSON text finds what the walk over every string finds."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote_plus

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body as bolt_parse_body

from bot.slack import body as body_module
from bot.slack import inbound
from bot.slack.body import parse_body
from tests.support.slack.helpers import block_action, interactive_body, signed_headers

CONTENT_TYPES = st.sampled_from([None, "application/json", "application/x-www-form-urlencoded"])
# Escapes whole, cut short, of no hex, of bytes that are not UTF-8, next to '+', '=',
# '&', non-ASCII letters and the word bolt looks for.
PIECES = st.one_of(
    st.sampled_from(
        ["%", "%2", "%zz", "%%", "+", "=", "&", "&&", "payload", "payload=", "é", "€", "😀"]
    ),
    st.binary(min_size=1, max_size=4).map(lambda raw: "".join(f"%{b:02x}" for b in raw)),
    st.binary(min_size=1, max_size=4).map(lambda raw: "".join(f"%{b:02X}" for b in raw)),
    st.text(alphabet=string.ascii_letters + string.digits + '%+=&-_.~{}":,[]', max_size=8),
    st.text(max_size=4),
)
FORMS = st.lists(PIECES, max_size=20).map("".join)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
PAYLOADS = st.dictionaries(st.text(max_size=6), JSON, max_size=5)


def outcome(parse: Callable[[str, str | None], Any], text: str, content_type: str | None) -> str:
    """The result, or the kind of error: repr tells 1 from 1.0 and matches NaN."""
    try:
        return repr(parse(text, content_type))
    except Exception as error:
        return type(error).__name__


@pytest.fixture(params=["c", "python"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with yarl's C decoder and with the fallback, urllib's."""
    if request.param == "python":
        monkeypatch.setattr(body_module, "unquote", unquote_plus)
    return str(request.param)


def test_the_c_decoder_is_in_use() -> None:
    """yarl ships its extension for this platform: the fast path is the one measured."""
    assert body_module.unquote is not unquote_plus


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(FORMS, st.text()), content_type=CONTENT_TYPES)
@example(text="payload=%7B%22a%22%3A+%22%C3%A9%E2%82%AC%22%7D", content_type=None)
@example(text="payload=%7B%22a%22%3A%22%C3%22%7D&payload=%7B%7D", content_type=None)
@example(text="payload=%7B%22a%22%3A%22%ED%A0%80%F0%9F%22%7D", content_type=None)
@example(text="a=1&&b&=2&payload", content_type=None)
@example(text="%70ayload=%7B%7D&x=%zz%2", content_type="text/plain")
@example(text="payload=%7B%22n%22%3A+18446744073709551616%7D", content_type=None)
@example(text="payload=%7B%22n%22%3A+NaN%7D", content_type=None)
def test_the_body_is_read_as_bolt_reads_it(
    decoder: str, text: str, content_type: str | None
) -> None:
    assert outcome(parse_body, text, content_type) == outcome(bolt_parse_body, text, content_type)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=PAYLOADS, extra=FORMS)
def test_a_form_with_a_json_payload_is_read_as_bolt_reads_it(
    decoder: str, payload: dict[str, Any], extra: str
) -> None:
    """`payload=` and JSON as Slack sends it, escaped as it escapes it, and other fields."""
    text = f"{extra}&payload={quote(json.dumps(payload, ensure_ascii=False), safe='')}"
    assert outcome(parse_body, text, None) == outcome(bolt_parse_body, text, None)
    read = body_module.read(text, None)
    if not isinstance(read[0], dict) or read[0] != payload:
        return  # `extra` held its own payload field, which came after
    assert read[1] is not None and json.loads(read[1]) == payload


def test_the_request_handed_to_bolt_is_the_one_bolt_builds() -> None:
    text = interactive_body(block_action("UANA", "pulse.answer#1", "1:2:3", response_url="u"))
    headers = signed_headers(text)
    _, body, _ = inbound.parse(text.encode(), headers["Content-Type"])
    ours = inbound.bolt_request(text, body, "a=1&b=", headers)
    bolts = AsyncBoltRequest(body=text, query="a=1&b=", headers=dict(headers))
    for name in ("raw_body", "body", "query", "headers", "content_type", "mode"):
        assert getattr(ours, name) == getattr(bolts, name), name
    assert (ours.lazy_only, ours.lazy_function_name) == (bolts.lazy_only, bolts.lazy_function_name)
    assert dict(ours.context) == dict(bolts.context)
    copy = ours.to_copyable()  # as a lazy listener gets it: parsed again from the text
    assert copy.body == body and copy.mode == "http"


def nested(levels: int) -> dict[str, Any]:
    """A body with containers down to depth `levels - 1` (the body's own is 0)."""
    inner: Any = "x"
    for n in range(levels - 1):
        inner = [inner] if n % 2 else {"k": inner}
    return {"type": "block_actions", "deep": inner}


@pytest.mark.parametrize(
    "body",
    [
        {"text": "a\x00b"},
        {"a\x00": 1},
        {"blocks": [{"elements": [{"text": "\x00"}]}]},
        {"text": "\\u0000 written out, not a NUL"},
        {"text": "x" * inbound.TEXT_MAX},
        {"text": "x" * (inbound.TEXT_MAX + 1)},
        {"x" * (inbound.TEXT_MAX + 1): 1},
        {"braces": "{[" * 40},
        nested(inbound.DEPTH_MAX),
        nested(inbound.DEPTH_MAX + 1),
        {"wide": [[{"a": [1]}] for _ in range(40)]},
    ],
    ids=lambda body: repr(body)[:30],
)
def test_reading_the_json_text_finds_what_the_walk_finds(body: dict[str, Any]) -> None:
    for source in (json.dumps(body), json.dumps(body, ensure_ascii=False, indent=1)):
        assert inbound._strings(body, source) == inbound._walk(body)


@settings(max_examples=300)
@given(
    body=st.dictionaries(
        st.text(alphabet="ab\x00\\u0", max_size=3),
        st.recursive(
            st.text(alphabet="ab\x00\\u0{[", max_size=6) | st.integers(),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner),
            max_leaves=40,
        ),
        max_size=4,
    )
)
def test_the_shape_check_is_the_same_with_or_without_the_json_text(body: dict[str, Any]) -> None:
    assert inbound.problem(body, json.dumps(body)) == inbound.problem(body)
