"""With MICROSOFT_APP_ID set, every activity needs a Bot Framework token: signed by a
key the OpenID metadata names (the stand-in's here), for our app id and this
serviceUrl. Anything else is refused with 401 before a turn runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.settings import Settings
from tests.support.clock import FakeClock
from tests.support.teams.helpers import APP_ID, TeamsOrg, conversation, teams_org


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, no_env: None):
    async with teams_org(tmp_path, clock, validate=True) as running:
        yield running


async def test_without_a_token_401(org: TeamsOrg) -> None:
    response = await org.say("ana", "help")
    assert response.status == 401
    assert "token" in (await response.json())["error"]
    assert org.standin.sent == []


async def test_a_forged_a_foreign_and_a_garbage_token_are_refused(org: TeamsOrg) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = org.activity("ana", text="help")
    tokens = [
        org.standin.token(APP_ID, org.standin.url, key=forger),  # not the channel's key
        org.standin.token("someone-elses-app", org.standin.url),  # another audience
        org.standin.token(APP_ID, "https://elsewhere.example"),  # another serviceUrl
        "not-a-jwt",
    ]
    for token in tokens:
        response = await org.post(body, token=token)
        assert response.status == 401, token
    assert org.standin.sent == []


async def test_a_valid_token_is_accepted_and_our_calls_carry_ours(org: TeamsOrg) -> None:
    token = org.standin.token(APP_ID, org.standin.url)
    response = await org.post(org.activity("ana", text="help"), token=token)
    assert response.status == 200
    assert org.standin.cards_to(conversation("ana"))
    assert set(org.standin.authorizations) == {"Bearer standin-access-token"}


def test_dev_mode_is_said_in_healthz_channels(no_env: None) -> None:
    dev = Settings(PULSECOACH_TEAMS="dev")
    assert dev.teams_enabled and dev.teams_dev
    assert dev.enabled_channels() == ["teams (DEV MODE: no token validation)"]
    real = Settings(PULSECOACH_TEAMS="dev", MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="x")
    assert not real.teams_dev and real.enabled_channels() == ["teams"]
    with pytest.raises(ValueError, match="MICROSOFT_APP_PASSWORD"):
        Settings(MICROSOFT_APP_ID=APP_ID)
    assert not Settings().teams_enabled
