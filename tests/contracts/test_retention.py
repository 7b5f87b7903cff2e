"""The retention period's purge of closed contract checks' ratings (#13.6), read back
from the raw tables: each check's figures are kept in the transaction that deletes its
ratings, so results, the follow-through report and digests read the same; interrupted,
nothing is half done and a second run completes. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from handlers.commitments.follow_through import contract_report
from handlers.contracts.schedule import close_check
from handlers.home import retention
from storage.contracts import retention as check_retention
from storage.core.models import Workspace
from tests.conftest import reset_postgres
from tests.support.clock import FakeClock
from tests.support.contracts import open_contract_check, rate
from tests.support.digests import SIX
from tests.support.pulse_fixtures import Org, running_org
from tests.support.retention import raw, seed

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"])


@asynccontextmanager
async def _org(tmp_path: Path, clock: FakeClock, database: str) -> AsyncIterator[Org]:
    url = await reset_postgres() if database == "postgres" else None
    async with running_org(tmp_path, clock, executives=SIX, database_url=url) as org:
        yield org


async def _figures(org: Org) -> dict[str, Any]:
    report = await contract_report(org.app.services, org.ids["team"])
    return {
        "results": [asdict(r) for r in report.results],
        "withheld": [(c.check_number, c.withheld) for c in report.comments],
    }


async def _left(org: Org) -> dict[str, Any]:
    return {
        "ratings": await raw(
            org.app, "SELECT check_id, count(*) FROM contract_rating GROUP BY check_id"
        ),
        "kept": await raw(org.app, "SELECT check_id FROM contract_check_summary"),
    }


@BOTH
async def test_an_interrupted_check_purge_leaves_nothing_half_done(
    tmp_path: Path, clock: FakeClock, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _org(tmp_path, clock, database) as org:
        await seed(org.app, org.ids)
        before, start = await _figures(org), await _left(org)
        [counted] = await retention.preview(org.app.services)
        assert counted.counts["contract ratings"] == 6
        real = check_retention.purge_check

        async def dies_after_the_work(*args: Any) -> int:
            await real(*args)  # the figures kept, the ratings deleted: then the crash
            raise RuntimeError("the process died")

        monkeypatch.setattr(check_retention, "purge_check", dies_after_the_work)
        with pytest.raises(RuntimeError):
            await retention.purge(org.app.services)
        assert await _left(org) == start  # rolled back together: no figures without ratings
        assert await _figures(org) == before

        monkeypatch.setattr(check_retention, "purge_check", real)
        [done] = await retention.purge(org.app.services, batch=1)
        assert done.counts["contract ratings"] == 6 and done.checks == 1
        left = await _left(org)
        assert len(left["ratings"]) == 1 and len(left["kept"]) == 1
        assert left["kept"][0][0] not in {check for check, _ in left["ratings"]}
        assert await _figures(org) == before
        [again] = await retention.purge(org.app.services)
        assert again.total == 0 and await _left(org) == left


@BOTH
async def test_a_sealed_check_reads_the_same_once_its_ratings_are_purged(
    tmp_path: Path, clock: FakeClock, database: str
) -> None:
    async with _org(tmp_path, clock, database) as org:
        check_id = (await open_contract_check(org.app, org.ids["team"])).id or 0
        for n, handle in enumerate(SIX[:4]):
            await rate(org, handle, 1 + n)
        await close_check(org.app.services, check_id)
        before = await _figures(org)
        assert [r["mean"] for r in before["results"]] == [pytest.approx(2.5)] * 2
        assert len(await raw(org.app, "SELECT id FROM contract_rating")) == 8

        async with org.app.db.session() as session:
            for workspace in (await session.exec(select(Workspace))).all():
                workspace.retention_months = 1
                session.add(workspace)
        clock.advance(timedelta(days=40))
        [done] = await retention.purge(org.app.services)
        assert done.counts["contract ratings"] == 8
        assert await raw(org.app, "SELECT id FROM contract_rating") == []
        assert await raw(org.app, "SELECT check_id FROM contract_check_summary") == [(check_id,)]
        assert await _figures(org) == before
