"""Bad input at /api/messages: a clear 4xx for what is no activity, a clear reply or a
quiet ignore for the rest; never a 5xx, and nothing stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.channels.teams_models import TeamsMessage
from storage.core.models import ChatAddress, OutboxMessage
from storage.pulse.models import PulseAnswer, PulseComment, PulseOpenAnswer, PulseOpenComment
from tests.support.clock import FakeClock
from tests.support.teams.helpers import TeamsOrg, conversation, teams_org


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, no_env: None):
    async with teams_org(tmp_path, clock) as running:
        yield running


async def stored(org: TeamsOrg) -> tuple[Any, ...]:
    """Everything a bad request must leave alone."""
    async with org.app.db.session() as session:
        counts = []
        tables = (PulseOpenAnswer, PulseOpenComment, PulseAnswer, PulseComment)
        for table in (*tables, TeamsMessage, OutboxMessage):
            counts.append((await session.exec(select(func.count()).select_from(table))).one())
        addresses = (await session.exec(select(ChatAddress))).all()
        return (*counts, sorted((a.person_id, str(a.address), a.active) for a in addresses))


async def test_what_is_no_activity_gets_a_4xx_naming_the_problem(org: TeamsOrg) -> None:
    before = await stored(org)
    good = org.activity("ana", text="help")
    cases: list[tuple[Any, str, int, str]] = [
        ("{not json", "application/json", 400, "not valid JSON"),
        ("[1, 2]", "application/json", 400, "JSON object"),
        ("type=message", "application/x-www-form-urlencoded", 415, "application/json"),
    ]
    for body, content_type, status, says in cases:
        response = await org.client.post(
            "/api/messages", data=body, headers={"Content-Type": content_type}
        )
        assert response.status == status, body
        assert says in (await response.json())["error"]
    broken: list[tuple[dict[str, Any], str]] = [
        ({k: v for k, v in good.items() if k != "type"}, "'type'"),
        (good | {"serviceUrl": "ftp://x"}, "'serviceUrl'"),
        (good | {"from": {"name": "no id"}}, "'from'"),
        (good | {"conversation": "a:ana"}, "'conversation'"),
        (good | {"value": [1, 2]}, "'value'"),
    ]
    for body, names in broken:
        response = await org.post(body)
        assert response.status == 400
        assert names in (await response.json())["error"]
    assert await stored(org) == before
    assert org.standin.sent == []


async def test_readable_but_unusable_activities_get_words_or_silence(org: TeamsOrg) -> None:
    await org.install("ana")
    before = await stored(org)
    said = lambda: org.standin.texts_to(conversation("ana"))  # noqa: E731
    answers: list[tuple[dict[str, Any], str | None]] = [
        (org.activity("ana", value={"pc": "no.such.action", "v": "1"}), "no longer works"),
        (org.activity("ana", value={"pc": "pulse.answer", "v": "garbage"}), ""),
        (org.activity("ana", value={"something": "from another card"}), None),
        (org.activity("ana", text="x" * 5000), "longer than 4000"),
        (org.activity("ana", text="help", conversation_type="groupChat"), "personal chat"),
        (org.activity("ana", "messageReaction"), None),
        (org.activity("ana", text="   "), None),
    ]
    for body, reply in answers:
        count = len(said())
        response = await org.post(body)
        assert response.status == 200, body
        if reply is None:
            assert len(said()) == count, body
        else:
            assert len(said()) == count + 1 and reply in said()[-1], (body, said())
    assert await stored(org) == before


async def test_an_unknown_tenant_is_told_and_nothing_stored(org: TeamsOrg) -> None:
    before = await stored(org)
    response = await org.post(org.activity("ana", text="help", tenant="tenant-unknown"))
    assert response.status == 200
    [reply] = org.standin.texts_to(conversation("ana"))
    assert "isn't set up for your organisation" in reply
    await org.post(org.activity("ana", "installationUpdate", action="add", tenant="tenant-other"))
    assert await stored(org) == before


async def test_odd_invokes_are_answered_200(org: TeamsOrg) -> None:
    await org.install("ana")
    before = await stored(org)
    for name, value in [
        ("composeExtension/query", {}),
        ("task/fetch", {"data": {"pc": "pc.form", "f": {"bogus": 1}, "r": "pulse:1"}}),
        ("task/fetch", {"data": "not an object"}),
        ("task/submit", {"data": {"pc": "no.such", "v": ""}}),
        ("task/submit", {"data": {"pc": "pulse.comment", "v": "999999", "in.comment": "x"}}),
        ("task/fetch", {"data": {"pc": "pulse.open", "v": "garbage", "r": "pulse:1"}}),
        ("task/fetch", {"data": {"pc": "pulse.open", "v": "999999"}}),
        ("task/submit", {"data": {"pc": "pulse.submit", "v": "1", "pf": [1], "in.x": "3"}}),
        ("task/submit", {"data": {"pc": "pulse.submit", "v": "999999", "in.safe": "3"}}),
    ]:
        response = await org.invoke("ana", name, value)
        assert response.status == 200, name
    assert await stored(org) == before


async def test_an_oversized_body_is_refused_before_anything(org: TeamsOrg) -> None:
    body = org.activity("ana", text="y" * 2_000_000)
    response = await org.post(body)
    assert response.status == 413
