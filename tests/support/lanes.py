"""Outbox lanes under test: a channel paced per team that records what went out and
when, and the workspaces, people and queued messages the lane tests send."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.core.messages import Message, notice
from bot.core.messenger import Delivery, check_fence
from storage.core import outbox
from storage.core.db import Database
from storage.core.models import ChatAddress, OutboxMessage, Person, Workspace


class PacedChannel:
    """A channel that posts one message at a time per team, `pace[team]` seconds each
    (as the Slack pacer does per workspace), and records what went out, when, and how
    many were under way at once."""

    def __init__(self, channel: str, pace: dict[str, float], paced: bool = False) -> None:
        self.channel = channel
        self.pace = pace
        self.paced = paced  # one process at a time sends its lanes (the lease holder)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.sent: list[tuple[str, int, str]] = []  # (team, person, ref)
        self.at: dict[str, float] = {}  # ref -> when it went out (monotonic)
        self.failed_at: dict[str, float] = {}  # ref -> when its failure was raised
        self.busy: Counter[str] = Counter()  # deliveries under way per team / person
        self.most: Counter[str] = Counter()
        self.failures: dict[str, Exception] = {}  # ref -> raised on its first attempt
        self.after: Callable[[int], Awaitable[None]] | None = None  # called per delivery

    async def deliver(self, person_id: int, address: dict[str, Any], message: Message) -> Delivery:
        team = str(address.get("team_id", "local"))
        keys = (team, f"person:{person_id}", "all")
        for key in keys:
            self.busy[key] += 1
            self.most[key] = max(self.most[key], self.busy[key])
        try:
            async with self.locks[team]:
                await asyncio.sleep(self.pace.get(team, 0.0))
            if self.paced:
                check_fence()  # as the Slack messenger does before each call
            if (failure := self.failures.pop(message.ref, None)) is not None:
                self.failed_at[message.ref] = time.monotonic()
                raise failure
            self.sent.append((team, person_id, message.ref))
            self.at[message.ref] = time.monotonic()
        finally:
            for key in keys:
                self.busy[key] -= 1
        if self.after is not None:
            await self.after(len(self.sent))
        return Delivery(external_ref={"n": len(self.sent)})


async def workspace(db: Database, key: str, channel: str, people: int) -> list[int]:
    """A workspace (Slack team `key`, or the local channel) with `people` reachable people."""
    async with db.session() as session:
        workspace = Workspace(key=key, name=key, channel=channel, external_id=key)
        session.add(workspace)
        await session.flush()
        ids = []
        for n in range(people):
            person = Person(workspace_id=workspace.id or 0, handle=f"{key}{n}", name=f"{key}{n}")
            session.add(person)
            await session.flush()
            address = {"user_id": f"U{key}{n}", "team_id": key} if channel == "slack" else {}
            session.add(ChatAddress(person_id=person.id or 0, channel=channel, address=address))
            ids.append(person.id or 0)
        return ids


async def enqueue(db: Database, people: list[int], each: int, at: datetime) -> list[str]:
    """`each` messages per person, due a second apart up to `at`; their refs in the
    order each person must receive them."""
    rows = []
    for person in people:
        for n in range(each):
            ref = f"p{person}:m{n}"
            payload = notice(ref, ref).model_dump(mode="json")
            due = at + timedelta(seconds=n - each)
            rows.append(outbox.Outgoing(ref, person, "test", ref, payload, due))
    async with db.session() as session:
        await outbox.enqueue_many(session, rows)
    return [row.ref for row in rows]


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        return list((await session.exec(select(OutboxMessage))).all())


def in_order(channel: PacedChannel, refs: list[str]) -> None:
    """Every person got each of their messages once, in order."""
    got: defaultdict[int, list[str]] = defaultdict(list)
    for _, person, ref in channel.sent:
        got[person].append(ref)
    expected: defaultdict[int, list[str]] = defaultdict(list)
    for ref in refs:
        expected[int(ref[1:].split(":")[0])].append(ref)
    assert got == expected


async def workspace_id(db: Database, key: str) -> int:
    async with db.session() as session:
        found = (await session.exec(select(Workspace).where(Workspace.key == key))).one()
        return found.id or 0
