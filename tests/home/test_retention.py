"""The retention period's purge (#13.6), read back from the raw tables: what is older
than a workspace's period is gone, newer rows are intact, each round's figures read the
same, a second run removes nothing, and an interrupted run completes when run again.
On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from handlers.commitments.follow_through import contract_report
from handlers.digests.send import configured, preview_digest
from handlers.home import retention
from handlers.pulse.results import results_json, team_results
from scheduler.runtime.jobs import SchedulerRuntime, SystemJob
from storage.core import retention as retention_store
from tests.conftest import reset_postgres
from tests.support.clock import FakeClock
from tests.support.digests import SIX
from tests.support.pulse_fixtures import Org, running_org
from tests.support.retention import CUTOFF, GONE, KEPT, raw, raw_text, seed

BOTH = pytest.mark.parametrize("database", ["sqlite", "postgres"])


@asynccontextmanager
async def _org(tmp_path: Path, clock: FakeClock, database: str) -> AsyncIterator[Org]:
    url = await reset_postgres() if database == "postgres" else None
    async with running_org(tmp_path, clock, executives=SIX, database_url=url) as org:
        await seed(org.app, org.ids)
        yield org


async def _figures(org: Org) -> dict[str, Any]:
    """The team's results without the comments (which the purge removes)."""
    shown = results_json(await team_results(org.app.services, "leadership"))
    for one in shown["rounds"]:
        one.pop("comments")
    return shown


async def _check_figures(org: Org) -> dict[str, Any]:
    """The contract checks' results and why comments are withheld, as the follow-through
    report, the results message and digests get them (the comments themselves go)."""
    report = await contract_report(org.app.services, org.ids["team"])
    return {
        "results": [asdict(r) for r in report.results],
        "comments": [(c.check_number, c.withheld) for c in report.comments],
    }


async def _digest_figures(org: Org) -> dict[str, Any]:
    """The figures of the digest the coach would get now (stored and sent nowhere)."""
    services = org.app.services
    content = await preview_digest(services, "leadership", configured(services))
    return content.model_dump(include={"score", "stages", "trend", "trend_labels"})


async def _left(org: Org) -> dict[str, Any]:
    app = org.app
    return {
        "answers": await raw(app, "SELECT DISTINCT round_id FROM pulse_answer ORDER BY round_id"),
        "comments": await raw(app, "SELECT round_id, text FROM pulse_comment"),
        "kept": await raw(app, "SELECT round_id FROM pulse_round_summary ORDER BY round_id"),
        "checkins": await raw(
            app, "SELECT outcome, reflection FROM commitment_checkin ORDER BY asked_at"
        ),
        "chat": await raw(app, "SELECT ref FROM local_message"),
        "digests": await raw(app, "SELECT occasion FROM digest ORDER BY created_at"),
        "contract comments": await raw(app, "SELECT text FROM contract_comment"),
        "contract ratings": await raw(
            app, "SELECT DISTINCT check_id FROM contract_rating ORDER BY check_id"
        ),
        "checks kept": await raw(
            app, "SELECT check_id FROM contract_check_summary ORDER BY check_id"
        ),
    }


@BOTH
async def test_purge_removes_what_is_past_the_period_and_keeps_the_figures(
    tmp_path: Path, clock: FakeClock, database: str
) -> None:
    async with _org(tmp_path, clock, database) as org:
        rounds = {n: rid for n, rid in await raw(org.app, "SELECT number, id FROM pulse_round")}
        before = await _figures(org)
        assert [r["overall"] is not None for r in before["rounds"]] == [True] * 3
        checks = {n: cid for n, cid in await raw(org.app, "SELECT number, id FROM contract_check")}
        check_figures = await _check_figures(org)
        shown = [r["mean"] for r in check_figures["results"]]
        assert shown == [pytest.approx(3.5), None, pytest.approx(8 / 3), None]
        digest = await _digest_figures(org)
        assert len(digest["trend_labels"]) == 3
        counted = await retention.preview(org.app.services)

        [done] = await retention.purge(org.app.services)

        assert done.workspace == "acme" and done.before == CUTOFF
        assert (
            done.counts
            == counted[0].counts
            == {
                "pulse answers": 2 * 6 * 7,
                "pulse comments": 2,
                "contract ratings": 6,
                "contract comments": 1,
                "commitment reflections": 1,
                "chat history": 1,
                "digest texts": 1,
            }
        )
        assert await _figures(org) == before  # every figure, trend and alert reads the same
        assert await _check_figures(org) == check_figures
        assert await _digest_figures(org) == digest
        left = await _left(org)
        assert left["answers"] == [(rounds[3],)]
        assert left["comments"] == [(rounds[3], "A recent comment")]
        assert left["kept"] == sorted([(rounds[1],), (rounds[2],)])
        assert left["checkins"] == [("kept", None), ("kept", "NEW REFLECTION")]
        assert left["chat"] == [("chat:2026",)]
        assert left["digests"] == [("weekly:2024",), ("weekly:2026",)]  # rows stay, emptied
        assert left["contract comments"] == [("NEW CONTRACT COMMENT",)]
        assert left["contract ratings"] == [(checks[2],)]
        assert left["checks kept"] == [(checks[1],)]
        stored = await raw_text(org.app)
        assert not [words for words in GONE if words in stored]
        assert all(words in stored for words in KEPT)
        [(actor, target, detail)] = await raw(
            org.app, "SELECT actor, target, detail FROM audit_log WHERE action = 'retention.purge'"
        )
        assert (actor, target) == ("system:retention", "workspace:acme")
        assert "pulse answers" in str(detail) and "OLD" not in str(detail)
        assert "contract ratings" in str(detail) and "checks_kept" in str(detail)

        # Idempotent: nothing is left to remove, and nothing is recorded.
        [again] = await retention.purge(org.app.services)
        assert again.total == 0
        assert await _figures(org) == before
        assert await _check_figures(org) == check_figures
        assert await _left(org) == left
        assert (
            len(await raw(org.app, "SELECT id FROM audit_log WHERE action = 'retention.purge'"))
            == 1
        )


@BOTH
async def test_an_interrupted_purge_completes_when_run_again(
    tmp_path: Path, clock: FakeClock, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _org(tmp_path, clock, database) as org:
        before = await _figures(org)
        real_round, real_batch = retention_store.purge_round, retention_store.purge_batch
        calls = {"rounds": 0, "rows": 0}

        async def second_round_fails(*args: Any) -> Any:
            calls["rounds"] += 1
            if calls["rounds"] == 2:
                raise RuntimeError("the process died")
            return await real_round(*args)

        monkeypatch.setattr(retention_store, "purge_round", second_round_fails)
        with pytest.raises(RuntimeError):
            await retention.purge(org.app.services, batch=5)  # one round per transaction
        left = await _left(org)
        assert len(left["kept"]) == 1 and len(left["answers"]) == 2  # the first round went
        [(detail,)] = await raw(
            org.app, "SELECT detail FROM audit_log WHERE action = 'retention.purge'"
        )
        assert "42" in str(detail)  # what did go is on record: 6 people x 7 items

        async def second_batch_fails(session: Any, kind: str, *args: Any) -> int:
            if kind == retention_store.CHAT:
                calls["rows"] += 1
                if calls["rows"] == 2:
                    raise RuntimeError("the process died again")
            return await real_batch(session, kind, *args)

        monkeypatch.setattr(retention_store, "purge_round", real_round)
        monkeypatch.setattr(retention_store, "purge_batch", second_batch_fails)
        with pytest.raises(RuntimeError):
            await retention.purge(org.app.services, batch=1)  # one row per transaction
        monkeypatch.setattr(retention_store, "purge_batch", real_batch)
        [done] = await retention.purge(org.app.services, batch=1)
        assert done.total >= 1  # the rest
        left = await _left(org)
        assert len(left["kept"]) == 2 and len(left["answers"]) == 1
        assert left["chat"] == [("chat:2026",)]
        assert left["contract comments"] == [("NEW CONTRACT COMMENT",)]
        assert await _figures(org) == before
        assert not [words for words in GONE if words in await raw_text(org.app)]
        [again] = await retention.purge(org.app.services)
        assert again.total == 0


async def test_a_purged_digest_says_so_when_opened(tmp_path: Path, clock: FakeClock) -> None:
    async with _org(tmp_path, clock, "sqlite") as org:
        await retention.purge(org.app.services)
        [(old,)] = await raw(org.app, "SELECT id FROM digest WHERE occasion = 'weekly:2024'")
        status, body = await org.click("cora", "digest.open", str(old))
        assert status == 409, body
        assert "older than the retention period" in body["error"]


async def test_the_leader_runs_the_purge_daily(tmp_path: Path, clock: FakeClock) -> None:
    async with _org(tmp_path, clock, "sqlite") as org:
        led: list[SystemJob] = []
        runtime = SchedulerRuntime()
        runtime.lead = lambda lock, probe, jobs: led.extend(jobs)  # type: ignore[method-assign]
        org.app.system_jobs(runtime)
        [job] = [j for j in led if j.name == "retention-purge"]
        assert job.seconds == 24 * 3600
        assert not runtime.has("retention-purge")  # a follower never runs it
        await job.run()
        assert await raw(org.app, "SELECT text FROM pulse_comment") == [("A recent comment",)]


def _cli(org: Org, *args: str) -> subprocess.CompletedProcess[str]:
    url = make_url(org.app.db.url)
    env = {**os.environ, "PULSECOACH_DATABASE_URL": f"sqlite:///{url.database}"}
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli.main import main; raise SystemExit(main())", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_command_line_shows_then_purges(tmp_path: Path, clock: FakeClock) -> None:
    async with _org(tmp_path, clock, "sqlite") as org:
        clock.set(datetime.now(UTC))  # the command runs on the real clock
        [expected] = await retention.preview(org.app.services)
        assert expected.counts["pulse answers"] >= 2 * 42
        dry = _cli(org, "retention", "run", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "acme (keeps 24 months, before " in dry.stdout
        assert f"would remove {'; '.join(expected.lines())}" in dry.stdout
        assert len(await raw(org.app, "SELECT id FROM pulse_answer")) == 3 * 42
        done = _cli(org, "retention", "run")
        assert done.returncode == 0, done.stderr
        assert f"removed {'; '.join(expected.lines())}" in done.stdout
        left = 3 * 42 - expected.counts["pulse answers"]
        assert len(await raw(org.app, "SELECT id FROM pulse_answer")) == left
        again = _cli(org, "retention", "run")
        assert "removed nothing" in again.stdout


def test_cutoff_is_whole_calendar_months() -> None:
    at = datetime(2026, 3, 31, 10, tzinfo=UTC)
    assert retention.cutoff(at, 1) == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert retention.cutoff(at, 24) == datetime(2024, 3, 31, 10, tzinfo=UTC)
    assert retention.cutoff(at, 0) == at
    assert retention.cutoff(datetime(2024, 2, 29, tzinfo=UTC), 12) == datetime(
        2023, 2, 28, tzinfo=UTC
    )
