"""Exactly one scheduler per database: a PostgreSQL session advisory lock.

The lock lives on one dedicated connection. When the holding process dies, its
connection closes, PostgreSQL releases the lock, and the next probe of another
process takes over. SQLite is single-node: the one process is always the leader.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.core.db import Database

log = logging.getLogger(__name__)
LOCK_KEY = 0x70756C73  # "puls"


class LeaderLock:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._connection: AsyncConnection | None = None
        self._closed = False  # released for good: a probe under way must not retake it

    @property
    def held(self) -> bool:
        return self.db.dialect == "sqlite" or self._connection is not None

    async def probe(self) -> bool:
        """Take the lock if free; confirm it is still ours if held. True: we lead."""
        if self._closed:
            return False
        if self.db.dialect == "sqlite":
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return True
            except Exception:
                log.warning(
                    "lost the scheduler lock's connection; stepping down",
                    extra={"event": "leader.lost"},
                )
                await self._drop()
                return False
        connection = await self.db.engine.connect()
        try:
            got = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                )
            ).scalar()
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if got:
            self._connection = connection
            log.info("this process now runs the scheduler", extra={"event": "leader.taken"})
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        """Give the lock up for good (shutting down)."""
        self._closed = True
        if self._connection is not None:
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                )
                await self._connection.commit()
                log.info("released the scheduler lock", extra={"event": "leader.released"})
            finally:
                await self._drop()

    async def anyone_leads(self) -> bool:
        """Whether some process holds the lock now (SQLite: this one, always). Advisory
        locks are per database, but pg_locks shows the whole server's."""
        if self.held:
            return True
        async with self.db.engine.connect() as connection:
            held = await connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = 0 AND objid = :key AND objsubid = 1 AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"key": LOCK_KEY},
            )
            return bool(held.scalar())

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
            except Exception:  # already broken: nothing left to release
                pass
