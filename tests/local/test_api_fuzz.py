"""No 5xx from the local API, on SQLite and on PostgreSQL: integers over 32 bits, NUL
characters, lone surrogates, oversized text and bodies, odd handles and any JSON at all
are refused with a 4xx and a JSON error naming the field; nothing half-stored.

The fuzz tests are bounded (max_examples) to keep CI quick."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Pulsecoach, build_web_app
from bot.settings import Settings
from tests.conftest import reset_postgres
from tests.local.test_api import local_rows, say, seed

FUZZ = settings(
    max_examples=int(os.environ.get("PULSECOACH_FUZZ_EXAMPLES", "80")),
    deadline=None,  # a few HTTP round trips each; the count bounds the time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(params=["sqlite", "postgres"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path, no_env: None
) -> AsyncIterator[TestClient[Any, Any]]:
    url = (
        await reset_postgres()
        if request.param == "postgres"
        else f"sqlite:///{tmp_path / 'api.db'}"
    )
    app = Pulsecoach.build(Settings(PULSECOACH_DATABASE_URL=url))
    async with TestClient(TestServer(build_web_app(app, run_scheduler=False))) as test_client:
        await seed(app)
        yield test_client


async def refused(response: Any) -> str:
    """A 4xx with a JSON error: its message."""
    assert 400 <= response.status < 500, (response.status, await response.text())
    assert response.content_type == "application/json"
    error: str = (await response.json())["error"]
    return error


BAD = [
    pytest.param(
        "actions",
        {"action_id": "home.help", "message_id": 2**31},
        "message_id",
        id="message-id-over-32-bits",
    ),
    pytest.param(
        "actions",
        {"action_id": "home.help", "message_id": 2**70},
        "message_id",
        id="message-id-over-64-bits",
    ),
    pytest.param(
        "actions",
        {"action_id": "home.help", "message_id": -1},
        "message_id",
        id="message-id-negative",
    ),
    pytest.param(
        "actions", {"action_id": "home.help", "value": "a\x00b"}, "'value'", id="nul-in-value"
    ),
    pytest.param("actions", {"action_id": "home.h\x00elp"}, "'action_id'", id="nul-in-action"),
    pytest.param(
        "actions",
        {"action_id": "home.help", "inputs": {"c": "\x00"}},
        "inputs.c",
        id="nul-in-input",
    ),
    pytest.param(
        "actions",
        {"action_id": "home.help", "message_ref": "r\x00"},
        "message_ref",
        id="nul-in-ref",
    ),
    pytest.param(
        "actions",
        {"action_id": "home.help", "message_ref": "r" * 201},
        "message_ref",
        id="ref-too-long",
    ),
    pytest.param("actions", {"action_id": "a" * 201}, "'action_id'", id="action-too-long"),
    pytest.param(
        "actions", {"action_id": "home.help", "value": "v" * 2001}, "'value'", id="value-too-long"
    ),
    pytest.param(
        "actions",
        {"action_id": "home.help", "inputs": {"c": "x" * 4001}},
        "inputs.c",
        id="input-too-long",
    ),
    pytest.param("messages", {"text": "help\x00"}, "'text'", id="nul-in-text"),
    pytest.param("messages", {"text": "\ud800"}, "'text'", id="lone-surrogate"),
    pytest.param("messages", {"text": "x" * 4001}, "'text'", id="text-too-long"),
    pytest.param("messages", {"text": "help", "x\x00": 1}, "a key", id="nul-in-a-key"),
]


@pytest.mark.parametrize(("route", "body", "named"), BAD)
async def test_bad_sizes_and_characters_are_a_4xx_naming_the_field(
    client: TestClient[Any, Any], route: str, body: dict[str, Any], named: str
) -> None:
    before = await local_rows(client)
    response = await client.post(f"/api/local/people/maya/{route}", json=body)
    assert named in await refused(response)
    assert await local_rows(client) == before  # nothing stored


async def test_a_body_over_the_size_limit_is_a_413_in_json(client: TestClient[Any, Any]) -> None:
    body = b'{"text": "' + b"x" * (1024 * 1024) + b'"}'
    response = await client.post(
        "/api/local/people/maya/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 413 and "larger than" in await refused(response)


@pytest.mark.parametrize("handle", ["ma\x00ya", "m" * 300, "\ud800"])
async def test_impossible_handles_are_a_404(client: TestClient[Any, Any], handle: str) -> None:
    path = quote(handle.encode("utf-8", "surrogatepass"), safe="")
    response = await client.get(f"/api/local/people/{path}/messages")
    assert "unknown persona" in await refused(response)


async def test_the_largest_32_bit_message_id_is_simply_not_found(
    client: TestClient[Any, Any],
) -> None:
    await say(client, "maya", "help")
    body = {"action_id": "home.help", "message_id": 2**31 - 1}
    response = await client.post("/api/local/people/maya/actions", json=body)
    assert response.status == 404


# --- fuzz -------------------------------------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "\x00", "\ud800", "x" * 4001, "home.help", "pulse.answer", "help"]),
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
ACTION = st.fixed_dictionaries(
    {},
    optional={
        "action_id": st.one_of(st.sampled_from(["home.help", "home.teams"]), JSON),
        "value": JSON,
        "message_id": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), JSON),
        "message_ref": JSON,
        "inputs": st.one_of(st.dictionaries(TEXT, TEXT, max_size=3), JSON),
    },
)
MESSAGE = st.fixed_dictionaries({}, optional={"text": JSON, "extra": JSON})


@FUZZ
@given(action=ACTION)
async def test_any_click_is_answered_below_500(
    client: TestClient[Any, Any], action: dict[str, Any]
) -> None:
    response = await client.post("/api/local/people/maya/actions", json=action)
    assert response.status < 500, await response.text()
    assert response.content_type == "application/json"


@FUZZ
@given(body=st.one_of(MESSAGE, JSON))
async def test_any_message_is_answered_below_500(client: TestClient[Any, Any], body: Any) -> None:
    response = await client.post("/api/local/people/maya/messages", json=body)
    assert response.status < 500, await response.text()
    assert response.content_type == "application/json"


@FUZZ
@given(handle=st.text(min_size=1, max_size=30), raw=st.binary(max_size=200))
async def test_any_handle_and_bytes_are_answered_below_500(
    client: TestClient[Any, Any], handle: str, raw: bytes
) -> None:
    path = quote(handle.encode("utf-8", "surrogatepass"), safe="")
    response = await client.post(f"/api/local/people/{path}/messages", data=raw)
    assert response.status < 500, await response.text()
    response = await client.get(f"/api/local/people/{path}/messages")
    assert response.status < 500, await response.text()
