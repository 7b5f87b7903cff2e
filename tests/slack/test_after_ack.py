"""Work after the ack under Slack's limits: a task waiting for its method's turn lends
its after-ack slot back (held, DMs waiting on chat.postMessage's pace took every slot
and every click stalled behind them), and a call whose turn is further away than a
person would wait is not made, counted, and books nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.core.metrics import REGISTRY
from bot.slack.background import AfterAck
from bot.slack.link import SlackLink
from bot.slack.pacing import PATIENCE, Booked, Pacer
from bot.slack.roster import Roster

NOT_MADE = "pulsecoach_slack_calls_not_made_total"


def not_made(method: str) -> float:
    return REGISTRY.get_sample_value(NOT_MADE, {"method": method}) or 0.0


async def test_work_waiting_for_its_turn_lends_its_slot_to_other_work() -> None:
    after = AfterAck(concurrency=2, patience=10.0)
    pacer = Pacer({"chat.postMessage": 60.0})  # one a second
    posted: list[float] = []
    clicks: list[float] = []
    began = time.monotonic()

    async def reply() -> None:  # a DM's answer: one post each
        await pacer.wait("T1", "chat.postMessage")
        posted.append(time.monotonic() - began)

    async def click() -> None:  # database work only
        await asyncio.sleep(0.01)
        clicks.append(time.monotonic() - began)

    for _ in range(4):  # 0, 1, 2, 3 s: more than the pool's two slots
        after.spawn(reply(), "direct message")
    await asyncio.sleep(0.05)
    for _ in range(3):
        after.spawn(click(), "block action")
    await after.drain(10.0)

    assert len(posted) == 4 and max(posted) >= 2.9  # the pace held
    assert len(clicks) == 3 and max(clicks) < 0.5, clicks  # not behind the replies
    assert after.pending == 0


async def test_a_turn_beyond_patience_is_not_taken_and_books_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    after = AfterAck(concurrency=4, patience=1.5)
    pacer = Pacer({"chat.postMessage": 60.0})
    posted: list[int] = []
    before = not_made("chat.postMessage")

    async def reply(n: int) -> None:
        await pacer.wait("T1", "chat.postMessage")
        posted.append(n)

    with caplog.at_level(logging.WARNING, logger="bot.slack.background"):
        for n in range(5):  # turns at 0, 1, 2, 3, 4 s: those past 1.5 s are not taken
            after.spawn(reply(n), "direct message")
        await after.drain(10.0)

    assert sorted(posted) == [0, 1]
    assert not_made("chat.postMessage") - before == 3
    booked = [r for r in caplog.records if "booked" in r.getMessage()]
    assert len(booked) == 1, "one line a minute, not one per call"
    assert "chat.postMessage" in booked[0].getMessage() and not booked[0].exc_info
    # Nothing was booked for the calls not made: the next turn follows the last post.
    started = time.monotonic()
    await pacer.wait("T1", "chat.postMessage")
    assert time.monotonic() - started < 1.2


async def test_the_outbox_sender_waits_as_long_as_the_pace_says() -> None:
    """Patience is for after-ack work only: a fan-out's posts wait their turn."""
    pacer = Pacer({"chat.postMessage": 600.0})
    assert PATIENCE.get() is None
    for _ in range(30):  # 3 s of turns: no Booked however far ahead
        await asyncio.wait_for(pacer.wait("T1", "chat.postMessage"), 5.0)


async def test_booked_names_the_method_and_how_far() -> None:
    pacer = Pacer({"users.info": 60.0})
    await pacer.wait("T1", "users.info")
    token = PATIENCE.set(0.5)
    try:
        with pytest.raises(Booked, match=r"users.info in T1: booked 1 s ahead"):
            await pacer.wait("T1", "users.info")
    finally:
        PATIENCE.reset(token)


async def test_work_nobody_waits_on_takes_every_turn() -> None:
    """A roster sync after an install pages through users.list at its tier's pace,
    however far ahead that is booked."""
    after = AfterAck(concurrency=4, patience=0.5)
    pacer = Pacer({"users.list": 120.0})  # one every 0.5 s
    pages: list[int] = []

    async def sync() -> None:
        for page in range(4):  # turns at 0, 0.5, 1, 1.5 s: three beyond patience
            await pacer.wait("T1", "users.list")
            pages.append(page)

    after.spawn(sync(), "roster sync after install", patient=True)
    await after.drain(10.0)
    assert pages == [0, 1, 2, 3]


async def test_a_time_zone_refresh_not_made_is_asked_at_the_next_visit() -> None:
    """In the soak, 200 people opening Home within 20 seconds asked users.info (Tier 4)
    faster than its pace: the refreshes not made must not count as done for 12 hours."""
    asked: list[str] = []

    class Sender:
        async def api_call(self, method: str, **_: Any) -> dict[str, Any]:
            asked.append(method)
            return {"user": {"id": "U2", "tz": ""}}  # no zone: nothing to store

    link = SimpleNamespace(pacer=Pacer({"users.info": 60.0}), sender=Sender(), db=None)
    roster = Roster(cast(SlackLink, link))
    await roster.refresh("T1", 1, "U1", "xoxb-1")
    token = PATIENCE.set(0.5)
    try:
        with pytest.raises(Booked):
            await roster.refresh("T1", 2, "U2", "xoxb-1")
    finally:
        PATIENCE.reset(token)
    await roster.refresh("T1", 2, "U2", "xoxb-1")  # the next visit, a second later
    assert asked == ["users.info", "users.info"]
