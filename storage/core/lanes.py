"""Leases on sending lanes (PostgreSQL only; SQLite is one process): who sends a
workspace's paced messages, until when, under which fencing token; and the sending
processes' heartbeats. Every instant is the database server's clock
(`clock_timestamp()`), so processes on hosts whose clocks disagree still agree on
whose lease has run out."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

_BEAT = text(
    "INSERT INTO lane_node (node, seen_at) VALUES (:node, clock_timestamp()) "
    "ON CONFLICT (node) DO UPDATE SET seen_at = excluded.seen_at"
)
_FORGET = text(
    "DELETE FROM lane_node WHERE seen_at < clock_timestamp() - make_interval(secs => :s)"
)
_LIVE = text(
    "SELECT count(*) FROM lane_node WHERE seen_at > clock_timestamp() - make_interval(secs => :s)"
)
# The CTE reads the row as it was before the statement: who held the lane last, and
# how long ago their lease ended (released when they stopped, or run out). Its snapshot
# may predate a release committed meanwhile (the upsert itself sees the release), so
# an end still ahead in it means "just now": 0, never a negative wait's worth.
_TAKE = text(
    "WITH before AS (SELECT holder, expires_at FROM lane_lease WHERE workspace_id = :w) "
    "INSERT INTO lane_lease (workspace_id, holder, token, expires_at) "
    "VALUES (:w, :node, 1, clock_timestamp() + make_interval(secs => :s)) "
    "ON CONFLICT (workspace_id) DO UPDATE SET holder = excluded.holder, "
    "token = lane_lease.token + 1, expires_at = excluded.expires_at "
    "WHERE lane_lease.expires_at < clock_timestamp() RETURNING token, "
    "(SELECT greatest(0, extract(epoch FROM clock_timestamp() - expires_at)) FROM before "
    "WHERE holder <> :node)"
)
_RENEW = text(
    "UPDATE lane_lease SET expires_at = clock_timestamp() + make_interval(secs => :s) "
    "WHERE workspace_id = :w AND holder = :node AND token = :t "
    "AND expires_at > clock_timestamp() RETURNING token"
)
_RELEASE = text(
    "UPDATE lane_lease SET expires_at = clock_timestamp() "
    "WHERE workspace_id = :w AND holder = :node AND token = :t"
)


async def heartbeat(session: AsyncSession, node: str, live_seconds: float) -> int:
    """This node is alive; how many nodes are (seen within `live_seconds`, this one
    included). Nodes silent for ten times that are forgotten."""
    await (await session.connection()).execute(_BEAT, {"node": node})
    await (await session.connection()).execute(_FORGET, {"s": live_seconds * 10})
    return int(
        (await (await session.connection()).execute(_LIVE, {"s": live_seconds})).scalar() or 1
    )


async def take(
    session: AsyncSession, workspace_id: int, node: str, seconds: float
) -> tuple[int, float | None] | None:
    """The lane's lease for `seconds` if nobody holds it (or theirs ran out): the new
    fencing token and, when another node held the lane before, how many seconds ago
    its lease ended; None when the lane is another's."""
    found = await (await session.connection()).execute(
        _TAKE, {"w": workspace_id, "node": node, "s": seconds}
    )
    row = found.first()
    if row is None:
        return None
    return int(row[0]), (None if row[1] is None else float(row[1]))


async def renew(
    session: AsyncSession, workspace_id: int, node: str, token: int, seconds: float
) -> bool:
    """Extend our lease by `seconds` from now; False when it ran out (or is another's)."""
    params = {"w": workspace_id, "node": node, "t": token, "s": seconds}
    return (await (await session.connection()).execute(_RENEW, params)).scalar() is not None


async def release(session: AsyncSession, workspace_id: int, node: str, token: int) -> None:
    """End our lease now: any process may take the lane at once."""
    await (await session.connection()).execute(
        _RELEASE, {"w": workspace_id, "node": node, "t": token}
    )
