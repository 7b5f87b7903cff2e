"""The endpoint end to end: activities POSTed to /api/messages on the running app, our
cards delivered by the real Bot Connector client to the stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.clock import FakeClock
from tests.support.teams.helpers import TeamsOrg, conversation, teams_org


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, no_env: None):
    async with teams_org(tmp_path, clock) as running:
        yield running


async def test_help_in_personal_chat_is_answered_with_a_card(org: TeamsOrg) -> None:
    response = await org.say("ana", "help")
    assert response.status == 200
    cards = org.standin.cards_to(conversation("ana"))
    assert cards, org.standin.calls
    print(cards[0])
