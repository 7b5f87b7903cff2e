"""The outbox sender's lanes: a workspace paced down to a crawl holds back only itself.
Other workspaces' messages go out beside its backlog, each person's messages stay in
order, nothing goes twice, and no lane keeps claimed rows past their lease."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

import scheduler.runtime.sender as sender_module
from bot.core.messenger import TemporaryDeliveryError
from scheduler.runtime.sender import Sender
from storage.core import outbox
from storage.core.db import Database
from storage.core.models import OutboxMessage
from tests.support.clock import FakeClock
from tests.support.lanes import (
    PacedChannel,
    enqueue,
    in_order,
    outbox_rows,
    workspace,
)


async def test_a_paced_workspace_holds_back_only_itself(any_db: Database, clock: FakeClock) -> None:
    a = await workspace(any_db, "TA", "slack", 10)
    b = await workspace(any_db, "TB", "slack", 3)
    local = await workspace(any_db, "home", "local", 1)
    # A's backlog has waited an hour: a single queue would send all of it first.
    refs = await enqueue(any_db, a, 4, clock.now() - timedelta(hours=1))
    refs += await enqueue(any_db, b, 2, clock.now())
    refs += await enqueue(any_db, local, 2, clock.now())
    slack = PacedChannel("slack", {"TA": 0.05})
    home = PacedChannel("local", {})
    result = await Sender(any_db, clock, {"slack": slack, "local": home}).drain(batch=5)

    assert (result.sent, result.retried, result.failed) == (48, 0, 0)
    order = [team for team, _, _ in slack.sent]
    a_before_b_done = order[: max(i for i, team in enumerate(order) if team == "TB")].count("TA")
    assert a_before_b_done < 10, f"B waited for {a_before_b_done} of A's 40 messages"
    assert len(home.sent) == 2 and max(home.at.values()) < max(slack.at.values())
    in_order(slack, [r for r in refs if int(r[1:].split(":")[0]) in a + b])
    in_order(home, [r for r in refs if int(r[1:].split(":")[0]) in local])
    # A lane has a few messages under way at once (database work overlaps the wait for
    # the pace), never one person's two.
    assert 1 <= slack.most["TA"] <= sender_module.PIPELINE
    assert slack.most["TB"] <= sender_module.PIPELINE
    assert slack.most["all"] >= 2  # lanes side by side
    assert all(n == 1 for key, n in slack.most.items() if key.startswith("person:"))
    assert {row.status for row in await outbox_rows(any_db)} == {"sent"}
    assert await Sender(any_db, clock, {"slack": slack, "local": home}).drain() == type(result)()


async def test_a_workspace_whose_messages_come_due_mid_drain_joins_in(
    db: Database, clock: FakeClock
) -> None:
    a = await workspace(db, "TA", "slack", 10)
    b = await workspace(db, "TB", "slack", 2)
    refs = await enqueue(db, a, 4, clock.now() - timedelta(hours=1))
    slack = PacedChannel("slack", {"TA": 0.03})
    later: list[str] = []

    async def enqueue_b(sent: int) -> None:
        if sent == 5:  # A's backlog is under way: B's messages come due now
            later.extend(await enqueue(db, b, 3, clock.now()))

    slack.after = enqueue_b
    result = await Sender(db, clock, {"slack": slack}, rescan_seconds=0.05).drain(batch=5)

    assert result.sent == 46 and len(later) == 6
    order = [team for team, _, _ in slack.sent]
    last_b = max(i for i, team in enumerate(order) if team == "TB")
    assert order[:last_b].count("TA") < 25, "B waited for A's backlog"
    in_order(slack, refs + later)


async def test_a_slow_lane_hands_back_its_claim_before_the_lease_ends(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "LEASE", timedelta(seconds=1))
    monkeypatch.setattr(sender_module, "LEASE_MARGIN", 0.5)
    claimed_at: dict[str, float] = {}
    claims: Counter[str] = Counter()
    claim_due = outbox.claim_due

    async def spy(*args: Any, **kwargs: Any) -> list[OutboxMessage]:
        rows = await claim_due(*args, **kwargs)
        for row in rows:
            claimed_at[row.ref] = time.monotonic()
            claims[row.ref] += 1
        return rows

    monkeypatch.setattr(outbox, "claim_due", spy)
    a = await workspace(db, "TA", "slack", 3)
    refs = await enqueue(db, a, 4, clock.now())
    slack = PacedChannel("slack", {"TA": 0.1})
    # Slack says "wait 0.6 s" once, on the fourth post (people's first messages go
    # first): longer than what is left of the claim after it.
    slack.failures[refs[1]] = TemporaryDeliveryError("ratelimited", retry_after=0.6)
    result = await Sender(db, clock, {"slack": slack}).drain()

    assert (result.sent, result.retried) == (11, 1)
    # Honoured by every send launched after the 429 (those already under way, at most
    # PIPELINE - 1, are this channel's to hold: the Slack pacer does).
    limited = slack.failed_at[refs[1]]
    after = sorted(at for at in slack.at.values() if at > limited)
    assert len(after) == 8
    assert all(at >= limited + 0.6 for at in after[sender_module.PIPELINE - 1 :]), after
    assert max(claims.values()) >= 2, "the lane never handed rows back"
    late = {ref: slack.at[ref] - claimed_at[ref] for ref in slack.at}
    assert max(late.values()) < 1.0, f"sent after its lease: {late}"
    assert sorted(r for _, _, r in slack.sent) == sorted(set(refs) - {refs[1]})
    pending = [row for row in await outbox_rows(db) if row.status == "pending"]
    assert [(row.ref, row.claimed_until) for row in pending] == [(refs[1], None)]


async def test_a_failing_lane_stops_the_drain_and_the_others_hand_back_their_rows(
    db: Database, clock: FakeClock
) -> None:
    a = await workspace(db, "TA", "slack", 10)
    b = await workspace(db, "TB", "slack", 1)
    await enqueue(db, a, 1, clock.now() - timedelta(minutes=1))
    broken = await enqueue(db, b, 1, clock.now())
    slack = PacedChannel("slack", {"TA": 0.05, "TB": 0.01})
    slack.failures[broken[0]] = RuntimeError("the database went away")
    with pytest.raises(RuntimeError, match="database went away"):
        await Sender(db, clock, {"slack": slack}).drain()
    rows = {row.ref: row for row in await outbox_rows(db)}
    left = [row for ref, row in rows.items() if ref not in broken and row.status == "pending"]
    assert left and all(row.claimed_until is None for row in left)
    assert sum(1 for row in rows.values() if row.status == "sent") == len(slack.sent) < 10


async def test_a_database_error_while_looking_for_new_lanes_stops_no_lane(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rescan is optional work: a dropped connection there (seen when a frozen
    process thawed) once failed the drain, cancelling every lane mid-claim, and their
    claimed rows waited out their 30 s lease before anyone sent them."""
    a = await workspace(db, "TA", "slack", 6)
    refs = await enqueue(db, a, 4, clock.now())
    slack = PacedChannel("slack", {"TA": 0.02})
    calls = 0
    real = outbox.due_lanes

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first rescan, with the lane under way
            raise ConnectionError("connection was closed in the middle of operation")
        return await real(*args, **kwargs)

    monkeypatch.setattr(outbox, "due_lanes", flaky)
    result = await Sender(db, clock, {"slack": slack}, rescan_seconds=0.05).drain(batch=5)

    assert calls >= 3  # the drain looked again after the failed look
    assert (result.sent, result.failed) == (24, 0)
    in_order(slack, refs)
    rows = await outbox_rows(db)
    assert {row.status for row in rows} == {"sent"}
    assert all(row.claimed_until is None for row in rows)
