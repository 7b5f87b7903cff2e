"""Addresses switched off because the app was not (or no longer) installed come back
when it works again: an OAuth install after sends that failed for want of one, and a
restart with a working SLACK_BOT_TOKEN after app_uninstalled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import select

from bot.slack.reasons import NOT_INSTALLED, UNINSTALLED
from handlers.pulse.rounds import open_round
from storage.core.db import Database
from storage.core.models import ChatAddress
from tests.slack.test_install import OAUTH, install
from tests.support.clock import FakeClock
from tests.support.slack.helpers import event_body, slack_org


async def addresses(db: Database) -> list[ChatAddress]:
    async with db.session() as session:
        return list((await session.exec(select(ChatAddress))).all())


async def test_people_a_send_found_not_installed_come_back_with_the_install(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    async with slack_org(tmp_path, clock, monkeypatch, settings=OAUTH) as org:
        await open_round(org.app.services, "leadership")
        await org.app.sender.drain()  # every send fails: no installation yet
        off = [a for a in await addresses(org.app.db) if not a.active]
        assert len(off) == 4  # the executives, invited to the pulse
        assert {a.inactive_reason for a in off} == {NOT_INSTALLED}  # one shared spelling
        assert (await install(org)).status == 200
        assert all(a.active and a.inactive_reason is None for a in await addresses(org.app.db))


async def test_a_restart_with_a_working_bot_token_brings_addresses_back(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    async with slack_org(tmp_path, clock, monkeypatch) as org:
        response = await org.post(event_body({"type": "app_uninstalled"}, "EvGone"))
        assert response.status == 200
        await org.settle()
        gone = await addresses(org.app.db)
        assert gone and all(not a.active and a.inactive_reason == UNINSTALLED for a in gone)
    monkeypatch.undo()  # the next server runs its roster task (auth.test at start)
    async with slack_org(tmp_path, clock, monkeypatch, roster=True, seed_org=False) as org:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while not all(a.active for a in await addresses(org.app.db)):
            assert loop.time() < deadline, "addresses stayed off after auth.test passed"
            await asyncio.sleep(0.05)
        assert org.standin.of("auth.test", ok=True)
        back = await addresses(org.app.db)
        assert len(back) == len(gone) and all(a.inactive_reason is None for a in back)
