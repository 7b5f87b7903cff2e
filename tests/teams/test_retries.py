"""Teams' retryable answers (#14 item 5): 412, 502 and 504 tried again after a jittered
exponential wait, 429 after its Retry-After (a little added) or a jittered wait; and
what Teams cannot tell us: a post taken whose answer was lost is sent again."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import Pulsecoach
from bot.core.messages import notice
from bot.core.messenger import TemporaryDeliveryError
from bot.teams.messenger import RETRY_BASE, TeamsMessenger
from handlers.pulse.rounds import open_round
from storage.core.models import OutboxMessage, OutboxStatus
from tests.support.teams.connector import ConnectorStandIn, Faults
from tests.support.teams.fanout import build, fan_out, reference, seed

PEOPLE = 24


@pytest.fixture
async def standin() -> AsyncIterator[ConnectorStandIn]:
    running = await ConnectorStandIn(Faults()).start()
    yield running
    await running.stop()


@pytest.fixture
async def app(tmp_path: Path, standin: ConnectorStandIn, no_env: None) -> AsyncIterator[Pulsecoach]:
    built, _ = build(f"sqlite:///{tmp_path / 'retries.db'}", per_second=50)
    await seed(built, PEOPLE, standin.url)
    yield built
    await built.db.dispose()


def messenger(app: Pulsecoach) -> TeamsMessenger:
    found = app.messengers["teams"]
    assert isinstance(found, TeamsMessenger)
    return found


@pytest.mark.parametrize("status", [412, 502, 504])
async def test_failed_posts_come_back_at_jittered_times(
    app: Pulsecoach, standin: ConnectorStandIn, status: int
) -> None:
    standin.faults.bad_gateway, standin.faults.gateway_status = 1.0, status
    await open_round(app.services, "leadership")
    before = datetime.now(UTC)
    await app.sender.drain()
    after = datetime.now(UTC)
    async with app.db.session() as session:
        rows = [r for r in (await session.exec(select(OutboxMessage))).all() if r.attempts]
    assert len(rows) == PEOPLE and standin.sent == []  # each card tried once (reminders wait)
    assert all(r.status == OutboxStatus.PENDING and r.attempts == 1 for r in rows)
    said = "teams: an answer that is no Connector JSON" if status == 502 else f"teams: {status}"
    assert {r.last_error for r in rows} == {said}
    due = sorted(r.not_before.replace(tzinfo=r.not_before.tzinfo or UTC) for r in rows)
    assert before + timedelta(seconds=RETRY_BASE) <= due[0]
    assert due[-1] <= after + timedelta(seconds=2 * RETRY_BASE)
    assert due[-1] - due[0] > timedelta(seconds=RETRY_BASE / 4)  # spread, not one instant
    assert len(set(due)) > PEOPLE // 2


async def test_the_jitter_grows_with_each_attempt_and_forgets_after_a_success(
    app: Pulsecoach, standin: ConnectorStandIn
) -> None:
    random.seed(14)  # the jitter's draws, fixed: the bounds hold for any
    teams = messenger(app)
    teams.retry_base = 0.01
    address = {"reference": reference(0, standin.url)}
    standin.faults.bad_gateway = 1.0
    waits = []
    for _ in range(6):
        with pytest.raises(TemporaryDeliveryError) as failed:
            await teams.deliver(1, address, notice("n:1", "hello"))
        assert not failed.value.rate_limited  # counts towards the outbox's maximum
        waits.append(failed.value.retry_after or 0.0)
    bounds = [0.01 * 2**n for n in range(1, 7)]
    assert all(0.01 <= w <= b for w, b in zip(waits, bounds, strict=True))
    assert max(waits[3:]) > 0.02  # later attempts may wait longer than the first can
    standin.faults.bad_gateway = 0.0
    await teams.deliver(1, address, notice("n:1", "hello"))
    assert teams.attempts == {}


async def test_a_429_waits_its_retry_after_a_little_more_or_a_jittered_while(
    app: Pulsecoach, standin: ConnectorStandIn
) -> None:
    teams = messenger(app)
    address = {"reference": reference(1, standin.url)}
    standin.faults.throttle = 1.0
    for told, low, high in ((0.05, 0.05, 0.055), (0.0, 1.0, 2.0)):
        standin.faults.retry_after = told
        with pytest.raises(TemporaryDeliveryError) as throttled:
            await teams.deliver(2, address, notice(f"n:{told}", "hello"))
        assert throttled.value.rate_limited
        assert low <= (throttled.value.retry_after or 0.0) <= high


async def test_a_post_whose_answer_was_lost_is_sent_again_and_may_double(
    app: Pulsecoach, standin: ConnectorStandIn
) -> None:
    """Teams offers no idempotency key and no way to list a chat's posts: docs/teams.md
    says so, and this is what it costs: a card twice, never none."""
    standin.faults.taken_then_502 = 0.25
    messenger(app).retry_base = 0.05
    result = await fan_out(app, standin, PEOPLE, give_up=60)
    assert standin.taken_then_lost > 0
    assert (result.lost, result.failed) == (0, 0)
    assert result.doubled == standin.taken_then_lost
