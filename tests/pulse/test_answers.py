"""The answer desk: many clicks at once go into few transactions and lose nothing, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

import storage.pulse.answers as pulse_answers_store
from bot.core.events import ActionEvent, Actor, Refused
from bot.core.messages import Question
from handlers.pulse.close import close_team_round
from storage.core.models import OutboxMessage
from storage.pulse.models import PulseInvite, PulseRound
from tests.conftest import reset_postgres
from tests.pulse.test_pulse import _answers, _open
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import EXECUTIVES, ITEMS, Org, running_org


def _click(org: Org, handle: str, round_id: int, item: str, score: int) -> ActionEvent:
    actor = Actor(person_id=org.ids[handle], workspace_id=1, channel="local")
    return ActionEvent(actor, "pulse.answer", f"{round_id}:{item}:{score}", None, {})


class CountingCommits:
    """Counts the desk's group commits (each is one transaction)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.commits = 0
        real = pulse_answers_store.store_batch

        def counted(connection: Any, *args: Any) -> Any:
            self.commits += 1
            return real(connection, *args)

        monkeypatch.setattr(pulse_answers_store, "store_batch", counted)


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_a_burst_of_clicks_is_stored_in_a_few_transactions_with_nothing_lost(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    url = await reset_postgres() if database == "postgres" else None
    counter = CountingCommits(monkeypatch)
    async with running_org(tmp_path, clock, database_url=url) as org:
        round_id = await _open(org)
        router = org.app.router
        clicks = [
            _click(org, handle, round_id, item, 1 + (n + i) % 7)
            for n, handle in enumerate(EXECUTIVES)
            for i, item in enumerate(ITEMS)
        ]
        replies = await asyncio.gather(*(router.on_action(click) for click in clicks))

        stored = {(a.respondent, a.item_key): a.score for a in await _answers(org)}
        assert len(stored) == len(EXECUTIVES) * len(ITEMS)
        assert sorted(stored.values()) == sorted(
            1 + (n + i) % 7 for n in range(4) for i in range(7)
        )
        assert counter.commits < len(clicks) / 4  # batched, not one per click
        # Each reply shows its person's progress as of that commit, never a value: the
        # message it updates is kept by the platform.
        for reply in replies:
            assert reply.update is not None
            assert not any(isinstance(b, Question) for b in reply.update.blocks)
            assert "of 7 answered" in reply.update.text or "You answered" in reply.update.text
        async with org.app.db.session() as session:
            invites = (await session.exec(select(PulseInvite))).all()
        assert all(invite.answered for invite in invites)


async def test_the_last_of_two_clicks_on_one_item_in_one_batch_wins(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        item = ITEMS[0]
        await asyncio.gather(
            org.app.router.on_action(_click(org, "ana", round_id, item, 2)),
            org.app.router.on_action(_click(org, "ana", round_id, item, 6)),
        )
        assert [a.score for a in await _answers(org)] == [6]


async def test_first_answer_cancels_the_persons_reminders_only(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        await org.app.router.on_action(_click(org, "ana", round_id, ITEMS[0], 4))
        async with org.app.db.session() as session:
            reminders = (
                await session.exec(
                    select(OutboxMessage).where(
                        OutboxMessage.dedupe_key.startswith(f"pulse:{round_id}:remind:")  # type: ignore[attr-defined]
                    )
                )
            ).all()
        assert reminders, "the round should have planned reminders"
        ana = f"pulse:{round_id}:remind:{org.ids['ana']}:"
        for row in reminders:
            expected = "cancelled" if row.dedupe_key.startswith(ana) else "pending"
            assert row.status == expected, row.dedupe_key


async def test_a_failed_commit_is_reported_to_every_click_and_stores_nothing(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        real = pulse_answers_store.save_answers

        def broken(connection: Any, rows: Any) -> None:
            real(connection, rows)  # written inside the transaction, then it fails
            raise RuntimeError("disk full")

        monkeypatch.setattr(pulse_answers_store, "save_answers", broken)
        results = await asyncio.gather(
            *(
                org.app.router.on_action(_click(org, h, round_id, ITEMS[0], 3))
                for h in ("ana", "ben")
            ),
            return_exceptions=True,
        )
        assert all(isinstance(r, RuntimeError) for r in results)
        assert await _answers(org) == []  # rolled back, all of it

        monkeypatch.setattr(pulse_answers_store, "save_answers", real)
        await org.app.router.on_action(_click(org, "ana", round_id, ITEMS[0], 3))
        async with org.app.db.session() as session:
            invite = (
                await session.exec(
                    select(PulseInvite).where(PulseInvite.person_id == org.ids["ana"])
                )
            ).one()
        assert invite.answered  # the failed first answer did not leave it unmarked


async def test_a_click_queued_behind_a_close_is_refused_and_not_stored(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        round_id = await _open(org)
        await org.app.router.on_action(_click(org, "ana", round_id, ITEMS[0], 3))  # snapshot
        await close_team_round(org.app.services, "leadership", "test")
        with pytest.raises(Refused):
            await org.app.router.on_action(_click(org, "ben", round_id, ITEMS[0], 3))
        assert len(await _answers(org)) == 1


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_a_click_during_a_close_waits_for_it_and_is_refused(
    tmp_path: Path, clock: FakeClock, database: str
) -> None:
    """Another server is closing the round (its transaction holds the round) when a
    click's batch commits: the batch waits for the close and then refuses the click,
    where reading "open" first and writing after would store it in a closed round."""
    url = await reset_postgres() if database == "postgres" else None
    async with running_org(tmp_path, clock, database_url=url) as org:
        round_id = await _open(org)
        await org.app.router.on_action(_click(org, "ana", round_id, ITEMS[0], 3))  # snapshot
        async with org.app.db.engine.connect() as closing:
            await closing.begin()
            await closing.execute(
                update(PulseRound).where(col(PulseRound.id) == round_id).values(status="closed")
            )
            click = asyncio.ensure_future(
                org.app.router.on_action(_click(org, "ben", round_id, ITEMS[0], 3))
            )
            await asyncio.sleep(0.5)
            assert not click.done()  # held until the close ends
            await closing.commit()
        with pytest.raises(Refused):
            await click
        assert len(await _answers(org)) == 1
