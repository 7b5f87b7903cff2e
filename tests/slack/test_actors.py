"""Slack users to people: the first clicks of a burst cost one query for the whole
workspace, not one per person."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import storage.channels.slack as slack_store
from tests.support.clock import FakeClock
from tests.support.slack.helpers import EXECUTIVES, SlackOrg, slack_org
from tests.support.slack.standin import TEAM


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


async def test_a_burst_of_first_clicks_loads_the_workspace_once(
    org: SlackOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: dict[str, int] = {"one": 0, "all": 0}
    one, everyone = slack_store.person_for_user, slack_store.people_by_user

    async def counted_one(*args: Any) -> Any:
        calls["one"] += 1
        return await one(*args)

    async def counted_all(*args: Any) -> Any:
        calls["all"] += 1
        return await everyone(*args)

    monkeypatch.setattr(slack_store, "person_for_user", counted_one)
    monkeypatch.setattr(slack_store, "people_by_user", counted_all)
    actors = org.channel.actors
    actors.forget()
    users = list(EXECUTIVES.values()) * 5
    found = await asyncio.gather(*(actors.resolve(TEAM, user) for user in users))

    assert {a.person_id for a in found if a is not None} == {
        org.ids[handle] for handle in EXECUTIVES
    }
    assert calls == {"one": 0, "all": 1}
    # Someone unknown to the workspace load is still looked up on their own, once.
    assert await actors.resolve(TEAM, "UNOBODY") is None
    assert await actors.resolve(TEAM, "UNOBODY") is None
    assert calls == {"one": 1, "all": 1}
