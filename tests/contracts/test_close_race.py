"""A rating submitted while another server closes the check (its transaction holds
the check) waits for the close and stores nothing: reading "open" first and writing
after would leave a row under an HMAC token in the open table of a sealed check,
written by a transaction that also marked the person's invite (#13)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

from storage.contracts.models import ContractCheck
from tests.conftest import reset_postgres
from tests.support.clock import FakeClock
from tests.support.contracts import open_contract_check, open_form
from tests.support.pulse_fixtures import running_org
from tests.support.retention import raw


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_a_rating_during_a_close_waits_for_it_and_stores_nothing(
    tmp_path: Path, clock: FakeClock, database: str
) -> None:
    url = await reset_postgres() if database == "postgres" else None
    async with running_org(tmp_path, clock, database_url=url) as org:
        check = await open_contract_check(org.app, org.ids["team"])
        message, form = await open_form(org, "ana")
        inputs = {key: "4" for key in check.norm_keys} | {"comment": "Late words."}
        async with org.app.db.engine.connect() as closing:
            await closing.begin()
            await closing.execute(
                update(ContractCheck)
                .where(col(ContractCheck.id) == check.id)
                .values(status="closed")
            )
            submit = asyncio.ensure_future(
                org.click(
                    "ana", form["action_id"], form["value"], message_id=message["id"], inputs=inputs
                )
            )
            await asyncio.sleep(0.5)
            assert not submit.done()  # held until the close ends
            await closing.commit()
        await submit
        for table in ("contract_open_rating", "contract_open_comment"):
            assert await raw(org.app, f"SELECT * FROM {table}") == []
