"""Which process sends which workspace's paced lane (PostgreSQL): a lease per lane,
taken for `seconds` at a time and renewed while the lane sends, with a fencing token.

A holder counts its lease from *before* it asked the database, so by its own
monotonic clock the lease ends no later than the database's stamp: it stops sending
`margin` seconds before any other process can take the lane, whatever happens to its
connections (terminated, hung, a network split). Each process takes its fair share of
the due lanes (their number over the live sending processes, from heartbeats), so a
deployment serving many workspaces sends faster with every process added.

On SQLite there is one process: every lane is granted, nothing is stored.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import uuid
from dataclasses import dataclass

from storage.core import lanes
from storage.core.db import Database

log = logging.getLogger(__name__)

LEASE_SECONDS = 20.0
# A holder sends nothing with less than this left of its lease (by its own clock):
# room for a post under way to reach Slack before another process may start.
SEND_MARGIN = 5.0
# A node whose heartbeat is older than this no longer counts in the fair share.
LIVE_SECONDS = 10.0


@dataclass
class Lease:
    workspace_id: int
    token: int
    until: float  # monotonic: when this process must have stopped sending
    # Another process held the lane until this many seconds before we took it (None:
    # nobody else, or long ago): the channel's pacer here knows none of its posts.
    others_stopped: float | None = None

    def left(self) -> float:
        return self.until - time.monotonic()


class LaneLeases:
    def __init__(
        self, db: Database, seconds: float = LEASE_SECONDS, margin: float = SEND_MARGIN
    ) -> None:
        self.db = db
        self.seconds = seconds
        self.margin = min(margin, seconds / 3)
        self.node = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held: dict[int, Lease] = {}
        self.live = 1
        self.shared = db.dialect != "sqlite"  # several processes may send

    async def heartbeat(self) -> int:
        """Say this process sends; how many do (at least 1)."""
        if self.shared:
            async with self.db.session() as session:
                self.live = max(1, await lanes.heartbeat(session, self.node, LIVE_SECONDS))
        return self.live

    def share(self, due: int) -> int:
        """How many of `due` paced lanes this process should send at once."""
        return max(1, math.ceil(due / self.live))

    async def take(self, workspace_id: int) -> Lease | None:
        if (held := self.held.get(workspace_id)) is not None:
            return held
        if not self.shared:
            lease = Lease(workspace_id, 0, math.inf)
        else:
            asked = time.monotonic()
            async with self.db.session() as session:
                taken = await lanes.take(session, workspace_id, self.node, self.seconds)
            if taken is None:
                return None
            token, others_stopped = taken
            lease = Lease(workspace_id, token, asked + self.seconds, others_stopped)
        self.held[workspace_id] = lease
        return lease

    async def keep(self, lease: Lease) -> bool:
        """True while this process may send on the lease (renewed once half of it has
        passed). False: stop now; the lease is gone or about to be."""
        if not self.shared or lease.left() > self.seconds / 2:
            return True
        asked = time.monotonic()
        try:
            async with self.db.session() as session:
                kept = await lanes.renew(
                    session, lease.workspace_id, self.node, lease.token, self.seconds
                )
        except Exception as error:  # the database is away: send while the lease lasts
            log.warning("lane %s: could not renew its lease: %s", lease.workspace_id, error)
            return lease.left() > self.margin
        if not kept:
            log.warning("lane %s: lease lost (token %s)", lease.workspace_id, lease.token)
            self.held.pop(lease.workspace_id, None)
            return False
        lease.until = asked + self.seconds
        return True

    def may_send(self, lease: Lease) -> bool:
        return lease.left() > self.margin

    async def release(self, lease: Lease) -> None:
        self.held.pop(lease.workspace_id, None)
        if not self.shared or lease.left() <= 0:
            return
        try:
            async with self.db.session() as session:
                await lanes.release(session, lease.workspace_id, self.node, lease.token)
        except Exception as error:  # it runs out by itself
            log.warning("lane %s: could not release its lease: %s", lease.workspace_id, error)
